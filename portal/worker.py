"""`celery -A portal.worker worker` / `celery -A portal.worker beat`: the production app."""
from portal import create_app
from portal.jobs.celery_app import make_celery

flask_app = create_app()
celery = make_celery(flask_app)
