"""Background jobs on Celery: thin tasks that call the features' use cases, and the beat schedule.

``make_celery(app)`` (``celery_app.py``) binds a Celery app to a Flask app (tests bind one to
theirs). What `celery -A portal.worker` starts is ``portal/worker.py``: it builds the whole app, so
it sits above every feature rather than in this layer. Celery is an extra (``pip install
".[celery]"``): nothing else in the portal imports this package.
"""
