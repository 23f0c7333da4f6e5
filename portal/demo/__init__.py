"""Demo data for `make run`: partners, years of seasonal orders, staff and partner logins."""
