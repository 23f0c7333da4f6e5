"""Reminders before each date: once per (schedule, date), by the partner's channel, with links to
skip or change; none for skipped or paused dates or a partner with channel none; in Polish too.
And the entry points: the CLI commands and the Celery tasks."""
from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.core.access import Actor
from portal.models import Notification, RecurringDraft, Task
from portal.notifications import outbox
from portal.recurring import reminders, settings, standing
from portal.recurring.standing import ScheduleData
from tests.portal.factories import Factories
from tests.portal.test_notifications import FakeMailer

START = date(2027, 1, 31)


@pytest.fixture(autouse=True)
def app_context(app):
    with app.app_context():  # as the CLI and the Celery tasks run (links go to PUBLIC_URL)
        yield


@pytest.fixture
def setup(app, f, db):
    buyer = f.user()
    water = f.product(sku="BEV-001", name="Still water 1.5 l", base_price=Decimal("1.20"))
    actor = Actor.of(buyer)
    schedule = standing.create(db, actor, ScheduleData(
        name="Monthly restock", cadence="monthly", start_date=START, lines=[(water.id, 24)]),
        today=date(2027, 1, 10))[0]
    return app.extensions["trellis.session_factory"], buyer, actor, schedule


def reminders_in(db):
    db.expire_all()
    return db.scalars(select(Notification).where(Notification.kind == reminders.KIND)).all()


def notices_in(db):
    db.expire_all()
    return db.scalars(select(Notification).where(Notification.kind == reminders.DRAFT_KIND)).all()


def test_one_reminder_goes_exactly_reminder_days_before_however_often_it_runs(setup, db):
    factory, buyer, _actor, schedule = setup
    assert reminders.send_reminders(factory, date(2027, 1, 28)).queued == 0  # three days before
    summary = reminders.send_reminders(factory, date(2027, 1, 29))  # two days before (default)
    assert (summary.queued, summary.already) == (1, 0)
    assert reminders.send_reminders(factory, date(2027, 1, 29)).already == 1
    assert reminders.send_reminders(factory, date(2027, 1, 30)).queued == 0
    [reminder] = reminders_in(db)
    assert reminder.partner_id == buyer.partner_id and reminder.channel is None  # the partner's channel
    assert reminder.payload["occurrence_date"] == "2027-01-31"
    assert reminder.payload["skip_url"].endswith(f"/standing-orders/{schedule.id}/skip?date=2027-01-31")
    assert reminder.payload["edit_url"].endswith(f"/standing-orders/{schedule.id}/edit")
    assert reminder.payload["skip_url"].startswith("http")


@pytest.mark.postgres
def test_two_processes_at_once_queue_one_reminder_per_date(live_pg_app):
    app = live_pg_app
    factory = app.extensions["trellis.session_factory"]
    with factory() as db:
        f = Factories(db)
        water = f.product(sku="BEV-001", base_price=Decimal("1.00"))
        for _ in range(30):
            standing.create(db, Actor.of(f.user()), ScheduleData(
                name="", cadence="monthly", start_date=START, lines=[(water.id, 3)]), today=date(2027, 1, 1))
    barrier = threading.Barrier(2)
    summaries = []

    def work():
        with app.app_context():
            barrier.wait()
            summaries.append(reminders.send_reminders(factory, date(2027, 1, 29)))

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sum(s.queued for s in summaries) == 30 and sum(s.already for s in summaries) == 30
    with factory() as db:
        assert db.scalar(select(func.count(Notification.id)).where(Notification.kind == reminders.KIND)) == 30


def test_skipped_and_paused_dates_and_a_silent_partner_get_no_reminder(setup, db):
    factory, buyer, actor, schedule = setup
    standing.skip(db, actor, schedule.id, START, today=date(2027, 1, 20))
    reminders.send_reminders(factory, date(2027, 1, 29))
    standing.pause(db, actor, schedule.id, until=date(2027, 3, 1), today=date(2027, 1, 20))
    reminders.send_reminders(factory, date(2027, 2, 26))  # 28 Feb is inside the pause
    assert reminders_in(db) == []
    reminders.send_reminders(factory, date(2027, 3, 29))  # 31 Mar, after it
    assert [r.payload["occurrence_date"] for r in reminders_in(db)] == ["2027-03-31"]
    buyer.partner.preferred_channel = "none"
    db.commit()
    assert reminders.send_reminders(factory, date(2027, 4, 28)).silent == 1
    assert len(reminders_in(db)) == 1


def test_the_reminder_days_are_the_partners_setting(setup, f, db):
    factory, buyer, *_ = setup
    settings.update(db, Actor.of(f.user(role="partner_admin", partner=buyer.partner)),
                    review_lead_days=3, reminder_days=5)
    assert reminders.send_reminders(factory, date(2027, 1, 29)).queued == 0
    assert reminders.send_reminders(factory, date(2027, 1, 26)).queued == 1


def test_the_reminder_email_is_in_the_readers_language_with_its_dates(setup, db):
    factory, buyer, *_ = setup
    buyer.locale = "pl"
    db.commit()
    reminders.send_reminders(factory, date(2027, 1, 29))
    mailer = FakeMailer()
    assert outbox.send_pending(db, mailer=mailer).sent == 1
    [(to, subject, body)] = mailer.sent
    assert to == [buyer.email]
    assert "31 stycznia 2027" in subject and "Monthly restock" in subject
    assert "Aby pominąć ten termin" in body and "/skip?date=2027-01-31" in body and "/edit" in body


def test_a_phone_partner_gets_a_task_for_its_manager(setup, f, db):
    factory, buyer, *_ = setup
    manager = f.user(role="account_manager")
    buyer.partner.preferred_channel, buyer.partner.account_manager_id = "phone", manager.id
    db.commit()
    reminders.send_reminders(factory, date(2027, 1, 29))
    assert outbox.send_pending(db, mailer=FakeMailer()).tasks == 1
    task = db.scalar(select(Task))
    assert "Monthly restock" in task.title and "January 31, 2027" in task.title


# --- entry points -----------------------------------------------------------------------------------

def test_the_cli_commands_say_what_they_did_and_are_safe_to_rerun(setup, app, db):
    _factory, _buyer, actor, schedule = setup
    runner = app.test_cli_runner()
    result = runner.invoke(args=["recurring", "remind", "--today", "2027-01-29"])
    assert result.exit_code == 0, result.output
    assert "2027-01-29 — reminders queued: 1, queued before: 0" in result.output
    assert "reminders queued: 0, queued before: 1" in runner.invoke(
        args=["recurring", "remind", "--today", "2027-01-29"]).output
    current = standing.get(db, actor, schedule.id)
    standing.update_schedule(db, actor, schedule.id, ScheduleData(
        name=current.name, cadence="monthly", start_date=START, mode="review",
        lines=[(line.product_id, line.quantity) for line in current.lines]), today=date(2027, 1, 10))
    result = runner.invoke(args=["recurring", "drafts", "--today", "2027-01-28"])
    assert result.exit_code == 0 and "2027-01-28 — drafts made: 1" in result.output
    assert "drafts made: 0" in runner.invoke(args=["recurring", "drafts", "--today", "2027-01-28"]).output
    assert runner.invoke(args=["recurring", "remind", "--today", "28.01.2027"]).exit_code == 2


def test_the_celery_tasks_run_the_same_use_cases_and_are_on_the_beat(setup, app, db):
    pytest.importorskip("celery")
    from portal.jobs.celery_app import make_celery

    _factory, _buyer, actor, schedule = setup
    current = standing.get(db, actor, schedule.id)
    standing.update_schedule(db, actor, schedule.id, ScheduleData(
        name=current.name, cadence="monthly", start_date=START, mode="review",
        lines=[(line.product_id, line.quantity) for line in current.lines]), today=date(2027, 1, 10))
    celery = make_celery(app)
    celery.conf.update(task_always_eager=True)
    beat = {entry["task"] for entry in celery.conf.beat_schedule.values()}
    assert {"trellis.recurring.drafts", "trellis.recurring.remind"} <= beat
    for _ in range(2):  # run twice: idempotent
        drafted = celery.tasks["trellis.recurring.drafts"].apply(args=["2027-01-29"]).get()
        reminded = celery.tasks["trellis.recurring.remind"].apply(args=["2027-01-29"]).get()
    assert drafted == {"schedules": 1, "created": 0, "notices": 0}
    # review mode: the draft notice (queued by the first drafts run) is the date's one message
    assert (reminded["queued"], reminded["already"], reminded["replaced"]) == (0, 0, 1)
    assert db.scalar(select(func.count(RecurringDraft.id))) == 1
    assert reminders_in(db) == [] and len(notices_in(db)) == 1
