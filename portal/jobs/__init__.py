"""Background jobs (Celery) will live here: thin tasks that call the features' use cases."""
