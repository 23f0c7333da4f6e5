"""A real Celery worker on the local Redis runs the standing-order generation exactly like the CLI."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal import create_app
from portal.core.access import Actor
from portal.db import Base, make_engine
from portal.models import Order, RecurringRun
from portal.recurring import standing
from portal.recurring.standing import ScheduleData
from tests.conftest import need_redis
from tests.portal.factories import Factories
from tests.portal.helpers import BASE_CONFIG

START = date(2027, 1, 31)


@pytest.fixture
def worker_app(backend, tmp_path, request):
    """An app on a real database (commits are real: the worker has its own sessions) whose
    Celery app talks to the local Redis; a worker thread runs its tasks."""
    redis_url = need_redis()
    pytest.importorskip("celery")
    from celery.contrib.testing.worker import start_worker

    from portal.jobs.celery_app import make_celery

    url = (f"sqlite:///{tmp_path / 'jobs.db'}" if backend == "sqlite"
           else request.getfixturevalue("empty_pg_schema_url"))
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    app = create_app({**BASE_CONFIG, "DB_BIND": engine, "CELERY_BROKER_URL": redis_url})
    celery = make_celery(app)
    celery.conf.update(task_default_queue=f"trellis-test-{tmp_path.name}")  # no stray messages
    with start_worker(celery, pool="solo", perform_ping_check=False, loglevel="WARNING",
                      shutdown_timeout=10):
        yield app, celery
    engine.dispose()


def _schedules(app, count: int) -> None:
    with app.extensions["trellis.session_factory"]() as db:
        f = Factories(db)
        water = f.product(sku="BEV-001", base_price=Decimal("1.00"))
        for _ in range(count):
            standing.create(db, Actor.of(f.user()), ScheduleData(
                name="", cadence="monthly", start_date=START, lines=[(water.id, 3)]), today=date(2027, 1, 1))


def test_the_celery_task_places_each_due_occurrence_once_and_the_cli_finds_nothing_left(worker_app):
    app, celery = worker_app
    _schedules(app, 7)
    fanned = celery.tasks["trellis.recurring.generate"].delay("2027-01-31").get(timeout=60)
    assert fanned == {"day": "2027-01-31", "schedules": 7, "chunks": 1}
    # The chunk runs on the worker after the dispatcher; wait for its result through the runs.
    import time

    factory = app.extensions["trellis.session_factory"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with factory() as db:
            if db.scalar(select(func.count(RecurringRun.id))) == 7:
                break
        time.sleep(0.2)
    with factory() as db:
        assert db.scalar(select(func.count(Order.id))) == 7
        assert set(db.scalars(select(Order.source))) == {"recurring"}
    # The CLI on the same day: nothing left to do (exactly once across both entry points).
    result = app.test_cli_runner().invoke(args=["recurring", "run", "--today", "2027-01-31"])
    assert result.exit_code == 0 and "placed: 0," in result.output
    # Running the task again is safe too.
    again = celery.tasks["trellis.recurring.generate_chunk"].delay([1, 2, 3], "2027-01-31").get(timeout=60)
    assert again == {"created": 0, "skipped": 0, "paused": 0, "failed": 0, "missed": 0}
    with factory() as db:
        assert db.scalar(select(func.count(Order.id))) == 7


def test_the_beat_schedule_runs_generation_daily_and_sends_notifications(worker_app):
    _app, celery = worker_app
    schedule = celery.conf.beat_schedule
    assert schedule["standing-orders-daily"]["task"] == "trellis.recurring.generate"
    assert schedule["notifications-every-5-minutes"]["task"] == "trellis.notifications.send"
    assert celery.conf.beat_scheduler == "redbeat.RedBeatScheduler" and celery.conf.task_acks_late
    sent = celery.tasks["trellis.notifications.send"].delay().get(timeout=60)
    assert sent == {"sent": 0, "tasks": 0, "failed": 0}
