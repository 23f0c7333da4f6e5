"""The shop: browsing at partner prices, the cart, orders and reorders, history import and export."""
