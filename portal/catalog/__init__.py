"""Products, price tiers and the price a partner pays; the admin pages that keep them."""
