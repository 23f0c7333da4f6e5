"""Background jobs on Celery: thin tasks that call the features' use cases, and the beat schedule.

``portal.worker`` is what `celery -A portal.worker` starts (the app factory sits above every feature, so it lives beside it, not in this layer); ``make_celery(app)`` binds a
Celery app to a Flask app (tests bind one to theirs). Celery is an extra (``pip install
".[celery]"``): nothing else in the portal imports this package.
"""
