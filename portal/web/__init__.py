"""Flask glue every feature shares: error pages and JSON errors, role guards, form helpers, the API base."""
