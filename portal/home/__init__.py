"""The landing page, the dashboards and the health check."""
