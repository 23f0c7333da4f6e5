"""Background jobs on Celery: thin tasks that call the features' use cases, and the beat schedule.

``portal.jobs.worker`` is what `celery -A portal.jobs.worker` starts; ``make_celery(app)`` binds a
Celery app to a Flask app (tests bind one to theirs). Celery is an extra (``pip install
".[celery]"``): nothing else in the portal imports this package.
"""
