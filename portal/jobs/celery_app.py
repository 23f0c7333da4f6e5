"""The Celery app: Redis broker, late acks, one beat (celery-redbeat's lock), tasks in app context."""
from __future__ import annotations

from datetime import date

from celery import Celery, Task, chord
from celery.schedules import crontab
from flask import Flask, current_app

from portal.db import session_factory, session_scope

CHUNK = 500  # schedules per generation task: small enough to spread, big enough to be cheap
FORECAST_CHUNK = 100  # partners per forecast task (about a minute of fitting on one core)


def make_celery(app: Flask) -> Celery:
    """A Celery app whose tasks run inside ``app``'s application context."""
    broker = app.config["CELERY_BROKER_URL"]

    class AppTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery("trellis", broker=broker, backend=broker, task_cls=AppTask)
    celery.conf.update(
        task_acks_late=True,  # a task whose worker dies is run again: every task is idempotent
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        timezone=app.config["BABEL_DEFAULT_TIMEZONE"],
        beat_scheduler="redbeat.RedBeatScheduler",
        redbeat_redis_url=broker,
        redbeat_lock_timeout=300,  # a second beat waits for the lock: exactly one beat at a time
        beat_schedule={
            "standing-orders-daily": {"task": "trellis.recurring.generate",
                                      "schedule": crontab(hour=5, minute=0)},
            # Drafts before generation (a lead of 0 days still shows the day's draft first),
            # reminders in the morning; both are once per (schedule, date) however often they run.
            "standing-order-drafts-daily": {"task": "trellis.recurring.drafts",
                                            "schedule": crontab(hour=4, minute=30)},
            "standing-order-reminders-daily": {"task": "trellis.recurring.remind",
                                               "schedule": crontab(hour=7, minute=0)},
            "notifications-every-5-minutes": {"task": "trellis.notifications.send",
                                              "schedule": crontab(minute="*/5")},
            # Deliveries grant their rewards at once; this catches up rule changes and old data.
            "referral-rewards-daily": {"task": "trellis.referrals.rewards",
                                       "schedule": crontab(hour=6, minute=0)},
            "forecasts-nightly": {"task": "trellis.forecasts.refresh",
                                  "schedule": crontab(hour=2, minute=30)},
        },
    )
    _register(celery)
    return celery


def _day(today: str | None) -> date:
    from portal.recurring import engine

    return date.fromisoformat(today) if today else engine.today_in(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def _register(celery: Celery) -> None:
    @celery.task(name="trellis.recurring.generate", shared=False)
    def generate(today: str | None = None) -> dict:
        """Fan the due standing orders out in chunks; each chunk is one task (idempotent)."""
        from portal.recurring import engine

        day = date.fromisoformat(today) if today else engine.today_in(
            current_app.config["BABEL_DEFAULT_TIMEZONE"])
        with session_scope() as session:
            ids = engine.due_ids(session, day)
        for start in range(0, len(ids), CHUNK):
            generate_chunk.delay(ids[start:start + CHUNK], day.isoformat())
        return {"day": day.isoformat(), "schedules": len(ids), "chunks": -(-len(ids) // CHUNK)}

    @celery.task(name="trellis.recurring.generate_chunk", shared=False)
    def generate_chunk(ids: list[int], today: str) -> dict:
        """Generate these schedules' due occurrences (the same use case as `flask recurring run`)."""
        from portal.recurring import engine

        summary = engine.generate_due(session_factory(), date.fromisoformat(today), ids=ids)
        return {"created": summary.created, "skipped": summary.skipped, "paused": summary.paused,
                "failed": summary.failed, "missed": summary.missed}

    @celery.task(name="trellis.recurring.drafts", shared=False)
    def drafts(today: str | None = None) -> dict:
        """Make the review drafts due (`flask recurring drafts`); idempotent: one per date."""
        from portal.recurring import drafts as review

        summary = review.prepare(session_factory(), _day(today))
        return {"schedules": summary.schedules, "created": summary.created, "notices": summary.notices}

    @celery.task(name="trellis.recurring.remind", shared=False)
    def remind(today: str | None = None) -> dict:
        """Queue the reminders due (`flask recurring remind`); idempotent: one per date."""
        from portal.recurring import reminders

        summary = reminders.send_reminders(session_factory(), _day(today))
        return {"schedules": summary.schedules, "queued": summary.queued, "already": summary.already,
                "silent": summary.silent, "replaced": summary.replaced}

    @celery.task(name="trellis.referrals.rewards", shared=False)
    def referral_rewards() -> dict:
        """Grant the referral rewards whose rule is met (`flask referrals rewards`); idempotent."""
        from portal.referrals import rewards

        with session_scope() as session:
            return {"granted": rewards.grant_due(session)}

    @celery.task(name="trellis.notifications.send", shared=False)
    def send_notifications() -> dict:
        """Deliver pending notifications (rows are claimed: safe beside the CLI or another worker)."""
        from portal.notifications import mailers, outbox

        mailer = mailers.mailer_from_settings(current_app.config)
        with session_scope() as session:
            summary = outbox.send_pending(session, mailer=mailer)
        return {"sent": summary.sent, "tasks": summary.tasks, "failed": summary.failed}

    @celery.task(name="trellis.forecasts.refresh", shared=False)
    def forecasts_refresh(codes: list[str] | None = None, chunk: int = FORECAST_CHUNK) -> dict:
        """Start a forecast run and fan its partners out in chunks; the last chunk's callback
        marks the run complete (the same figures as `flask forecasts refresh`)."""
        from portal.workspace import forecasts

        with session_scope() as session:
            run = forecasts.start_run(session, time_zone=current_app.config["BABEL_DEFAULT_TIMEZONE"],
                                      codes=codes, source="celery")
            run_id, ids = run.id, list(run.settings["partner_ids"])
        chunks = [ids[start:start + chunk] for start in range(0, len(ids), chunk)]
        if chunks:
            chord(forecasts_chunk.s(run_id, part) for part in chunks)(forecasts_finish.si(run_id))
        else:
            forecasts_finish.delay(run_id)
        return {"run": run_id, "partners": len(ids), "chunks": len(chunks)}

    @celery.task(name="trellis.forecasts.chunk", shared=False)
    def forecasts_chunk(run_id: int, ids: list[int]) -> int:
        """Forecast and store these partners of the run (again: replaces the chunk's rows)."""
        from portal.workspace import forecasts

        with session_scope() as session:
            return forecasts.forecast_chunk(session, run_id, ids, workers=1)

    @celery.task(name="trellis.forecasts.finish", shared=False)
    def forecasts_finish(run_id: int) -> dict:
        """Mark the run complete once every partner is stored (failed if some are missing)."""
        from portal.workspace import forecasts

        with session_scope() as session:
            run = forecasts.finish_run(session, run_id)
            return {"run": run.id, "status": run.status, "failed": run.failed_count}
