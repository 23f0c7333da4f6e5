"""A real Celery worker on the local Redis makes a forecast run with the CLI's figures."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from portal import create_app
from portal.db import Base, make_engine
from portal.models import ForecastRun, PartnerForecast
from portal.workspace import forecasts
from tests.conftest import need_redis
from tests.portal.factories import Factories
from tests.portal.forecast_helpers import TZ, add_history
from tests.portal.helpers import BASE_CONFIG


@pytest.fixture
def worker_app(backend, tmp_path, request):
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
    celery.conf.update(task_default_queue=f"trellis-test-{tmp_path.name}")
    with start_worker(celery, pool="solo", perform_ping_check=False, loglevel="WARNING",
                      shutdown_timeout=10):
        yield app, celery
    engine.dispose()


def _figures(db, run_id):
    rows = db.scalars(select(PartnerForecast).where(PartnerForecast.run_id == run_id))
    return {r.partner_id: (r.status, r.model, r.total, r.total_lower_80, r.total_upper_80,
                           [(m.month, m.mean, m.lower_95, m.upper_95) for m in r.months]) for r in rows}


def test_the_celery_task_fans_out_and_assembles_one_run_like_the_cli(worker_app):
    app, celery = worker_app
    factory = app.extensions["trellis.session_factory"]
    with factory() as db:
        f = Factories(db)
        for months in (40, 30, 14, 5, 0):
            add_history(db, f.partner(), months)
    assert "forecasts-nightly" in celery.conf.beat_schedule
    fanned = celery.tasks["trellis.forecasts.refresh"].delay(None, 2).get(timeout=60)
    assert fanned["partners"] == 5 and fanned["chunks"] == 3
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with factory() as db:
            if db.get(ForecastRun, fanned["run"]).status != "running":
                break
        time.sleep(0.3)
    cli_run = forecasts.refresh(factory, time_zone=TZ)
    with factory() as db:
        run = db.get(ForecastRun, fanned["run"])
        assert run.status == "complete" and run.source == "celery"
        assert _figures(db, run.id) == _figures(db, cli_run.id)
