"""The notification outbox: queued once, sent once, tasks for calls and visits; the tasks page."""
from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from portal import create_app
from portal.db import Base, make_engine
from portal.models import AuditEvent, Notification, Task
from portal.notifications import mailers
from portal.notifications import outbox as notifications
from tests.portal.factories import Factories
from tests.portal.helpers import BASE_CONFIG, sign_in

KIND = "thank_you_first_order"


class FakeMailer:
    """Records every message; fails for the recipients listed in ``fail_for``."""

    def __init__(self, fail_for=(), delay=0.0):
        self.sent: list[tuple[list[str], str, str]] = []
        self.fail_for = set(fail_for)
        self.delay = delay
        self.lock = threading.Lock()

    def send(self, to, subject, body):
        if self.fail_for & set(to):
            raise OSError("SMTP server said no")
        time.sleep(self.delay)
        with self.lock:
            self.sent.append((list(to), subject, body))


def queue(db, partner, *, key=None, user=None, channel=None, kind=KIND, payload=None):
    """Queue one notification for the partner and commit, as the ordering code does."""
    created = notifications.queue(
        db, partner_id=partner.id, kind=kind, subject_key=key or f"partner:{partner.id}:orders:1",
        payload=payload or {"order_id": 7, "order_count": 1, "partner_name": partner.name},
        user_id=user.id if user else None, channel=channel,
    )
    db.commit()
    return created


def send(app, db, mailer, **kw):
    with app.app_context():
        summary = notifications.send_pending(db, mailer=mailer, **kw)
    db.expire_all()
    return summary


def only_notification(db) -> Notification:
    [notification] = db.scalars(select(Notification)).all()
    return notification


# --- queueing ------------------------------------------------------------------------------------

def test_queueing_the_same_news_twice_keeps_one_row(db, f):
    partner = f.partner()
    assert queue(db, partner, key="partner:1:orders:1") is True
    assert queue(db, partner, key="partner:1:orders:1") is False
    assert queue(db, partner, key="partner:1:orders:10") is True
    assert db.scalar(select(func.count(Notification.id))) == 2
    notification = db.scalar(
        select(Notification).where(Notification.subject_key == "partner:1:orders:1"))
    assert notification.status == "pending" and notification.attempts == 0
    assert notification.payload["partner_name"] == partner.name


def test_queueing_news_already_queued_leaves_the_callers_transaction_usable(db, f):
    partner = f.partner()
    other = f.partner()
    # Stands in for the same news queued by a concurrent transaction that committed first.
    db.add(Notification(partner_id=partner.id, kind=KIND, subject_key="race", payload={}))
    db.flush()
    created = notifications.queue(db, partner_id=partner.id, kind=KIND, subject_key="race")
    assert created is False
    other.name = "Still Saved"  # the caller's own work goes on and commits
    db.commit()
    db.expire_all()
    assert db.scalar(select(func.count(Notification.id))) == 1
    assert other.name == "Still Saved"


def test_queueing_many_at_once_keeps_one_row_per_news_the_first_winning(db, f):
    partner, other = f.partner(), f.partner()
    assert queue(db, partner, key="taken", payload={"order_id": 1}) is True
    note = {"partner_id": partner.id, "kind": KIND, "payload": {"order_id": 2}}
    new = notifications.queue_many(db, [
        {**note, "subject_key": "taken"},  # queued before: left alone
        {**note, "subject_key": "fresh"},
        {**note, "subject_key": "fresh", "payload": {"order_id": 3}},  # twice in the batch: the first
        {**note, "subject_key": "fresh", "kind": "thank_you_order_milestone"},  # another kind: news of its own
        {"partner_id": other.id, "kind": KIND, "subject_key": "task", "channel": "phone"},
    ])
    assert new == 3
    assert notifications.queue_many(db, []) == 0
    db.commit()
    rows = {(n.kind, n.subject_key): n for n in db.scalars(select(Notification))}
    assert len(rows) == 4
    assert rows[KIND, "taken"].payload == {"order_id": 1}
    assert rows[KIND, "fresh"].payload == {"order_id": 2}
    assert rows[KIND, "fresh"].status == "pending" and rows[KIND, "fresh"].attempts == 0
    assert rows[KIND, "task"].channel == "phone" and rows[KIND, "task"].payload == {}
    with pytest.raises(ValueError):
        notifications.queue_many(db, [{**note, "subject_key": "x", "channel": "pigeon"}])


# --- sending -------------------------------------------------------------------------------------

def test_email_goes_to_the_user_once_even_when_sending_runs_twice(app, db, f):
    partner = f.partner(name="Lakeside Grocers")
    buyer = f.user(partner=partner, email="buyer@lakeside.test")
    f.user(role="partner_admin", partner=partner, email="owner@lakeside.test")
    queue(db, partner, user=buyer)
    mailer = FakeMailer()
    first = send(app, db, mailer)
    second = send(app, db, mailer)
    assert (first.sent, second.sent, second.processed) == (1, 0, 0)
    [(to, subject, body)] = mailer.sent
    assert to == ["buyer@lakeside.test"]
    assert "Lakeside Grocers" in subject and "7" in body
    notification = only_notification(db)
    assert notification.status == "sent" and notification.sent_at is not None


def test_without_a_user_the_partner_admins_get_the_email_else_every_active_user(app, db, f):
    with_admins, without_admins = f.partner(), f.partner()
    f.user(role="partner_admin", partner=with_admins, email="a1@example.test")
    f.user(role="partner_admin", partner=with_admins, email="a2@example.test")
    f.user(partner=with_admins, email="buyer-a@example.test")
    f.user(partner=without_admins, email="b1@example.test")
    f.user(partner=without_admins, email="b2@example.test")
    f.user(partner=without_admins, email="gone@example.test", active=False)
    queue(db, with_admins)
    queue(db, without_admins)
    mailer = FakeMailer()
    assert send(app, db, mailer).sent == 2
    assert sorted(sorted(to) for to, _s, _b in mailer.sent) == [
        ["a1@example.test", "a2@example.test"], ["b1@example.test", "b2@example.test"]]


def test_phone_and_visit_partners_get_a_task_for_their_account_manager(app, db, f):
    manager = f.user(role="account_manager")
    caller = f.partner(name="Call Me Ltd", preferred_channel="phone",
                       account_manager_id=manager.id)
    visited = f.partner(name="Visit Me Ltd", preferred_channel="email",
                        account_manager_id=manager.id)
    f.user(partner=caller)
    f.user(partner=visited)
    queue(db, caller)
    queue(db, visited, channel="visit")  # the notification's own channel wins
    mailer = FakeMailer()
    summary = send(app, db, mailer)
    assert (summary.tasks, summary.sent, mailer.sent) == (2, 0, [])
    tasks = db.scalars(select(Task).order_by(Task.id)).all()
    assert [(t.partner_id, t.kind, t.assignee_id, t.status) for t in tasks] == [
        (caller.id, "phone", manager.id, "open"), (visited.id, "visit", manager.id, "open")]
    assert tasks[0].due_on == datetime.now(UTC).date()
    assert "Call Me Ltd" in tasks[0].title and "first order" in tasks[0].title
    assert {n.status for n in db.scalars(select(Notification))} == {"task"}
    assert send(app, db, mailer).processed == 0
    assert db.scalar(select(func.count(Task.id))) == 2


def test_partner_who_wants_no_notifications_is_skipped(app, db, f):
    partner = f.partner(preferred_channel="none")
    f.user(partner=partner)
    queue(db, partner)
    mailer = FakeMailer()
    assert send(app, db, mailer).skipped == 1
    assert mailer.sent == [] and only_notification(db).status == "skipped"


def test_a_failing_send_is_retried_then_failed_and_never_stops_the_others(app, db, f):
    broken, fine = f.partner(), f.partner()
    f.user(partner=broken, email="bounces@example.test")
    f.user(partner=fine, email="fine@example.test")
    queue(db, broken)
    queue(db, fine)
    mailer = FakeMailer(fail_for={"bounces@example.test"})
    summary = send(app, db, mailer)
    assert (summary.sent, summary.retrying, summary.failed) == (1, 1, 0)
    assert [to for to, _s, _b in mailer.sent] == [["fine@example.test"]]
    failing = db.scalar(select(Notification).where(Notification.partner_id == broken.id))
    assert failing.status == "pending" and failing.attempts == 1
    assert "SMTP server said no" in failing.last_error
    for _ in range(notifications.MAX_ATTEMPTS - 2):
        assert send(app, db, mailer).retrying == 1
    assert send(app, db, mailer).failed == 1
    db.refresh(failing)
    assert failing.status == "failed" and failing.attempts == notifications.MAX_ATTEMPTS
    assert send(app, db, mailer).processed == 0
    assert len(mailer.sent) == 1


def test_a_partner_without_users_counts_as_a_failed_attempt(app, db, f):
    queue(db, f.partner())
    assert send(app, db, FakeMailer()).retrying == 1
    notification = only_notification(db)
    assert notification.attempts == 1 and "no active user" in notification.last_error


def test_limit_and_progress(app, db, f):
    for _ in range(3):
        partner = f.partner()
        f.user(partner=partner)
        queue(db, partner)
    seen = []
    summary = send(app, db, FakeMailer(), limit=2,
                   progress=lambda done, total: seen.append((done, total)))
    assert summary.sent == 2 and seen == [(1, 2), (2, 2)]
    assert send(app, db, FakeMailer()).sent == 1


def test_mailer_comes_from_the_smtp_settings():
    assert isinstance(mailers.mailer_from_settings({}), mailers.LogMailer)
    smtp = mailers.mailer_from_settings({
        "SMTP_HOST": "mail.example.test", "SMTP_USER": "trellis", "SMTP_PASSWORD": "pw",
        "SMTP_FROM": "portal@example.test"})
    assert (smtp.host, smtp.port, smtp.sender, smtp.starttls) == (
        "mail.example.test", 587, "portal@example.test", True)
    plain = mailers.mailer_from_settings({"SMTP_HOST": "relay", "SMTP_STARTTLS": "0",
                                                "SMTP_FROM": "p@example.test"})
    assert (plain.port, plain.starttls) == (25, False)


def test_smtp_mailer_sends_one_message(monkeypatch):
    sent = []

    class FakeSMTP:
        def __init__(self, host, port, timeout):
            sent.append(("connect", host, port))

        def starttls(self, context):
            sent.append(("starttls",))

        def login(self, user, password):
            sent.append(("login", user, password))

        def send_message(self, message):
            sent.append(("send", message["To"], message["Subject"], message["From"]))

        def quit(self):
            raise OSError("connection reset after the message was accepted")

        def close(self):
            sent.append(("close",))

    monkeypatch.setattr(mailers.smtplib, "SMTP", FakeSMTP)
    mailer = mailers.SmtpMailer(host="mx", port=587, sender="p@example.test", user="u",
                                      password="pw")
    mailer.send(["a@example.test", "b@example.test"], "Hi", "Body")
    assert sent == [("connect", "mx", 587), ("starttls",), ("login", "u", "pw"),
                    ("send", "a@example.test, b@example.test", "Hi", "p@example.test"),
                    ("close",)]


# --- the command ---------------------------------------------------------------------------------

def test_cli_sends_through_the_log_mailer_and_prints_a_summary(app, db, f, monkeypatch, caplog):
    monkeypatch.delenv("SMTP_HOST", raising=False)
    manager = f.user(role="account_manager")
    emailed = f.partner(name="Mail Me Ltd")
    f.user(partner=emailed, email="mailme@example.test")
    queue(db, emailed)
    queue(db, f.partner(preferred_channel="phone", account_manager_id=manager.id))
    queue(db, f.partner(preferred_channel="none"))
    runner = app.test_cli_runner()
    with caplog.at_level(logging.INFO, logger="portal.notifications.mailers"):
        result = runner.invoke(args=["notifications", "send"])
    assert result.exit_code == 0, result.output
    assert "Emails sent: 1" in result.output and "Tasks created: 1" in result.output
    assert "Skipped (partner wants no notifications): 1" in result.output
    assert "Failed for good after 5 attempts: 0" in result.output
    assert "mailme@example.test" in caplog.text and "Mail Me Ltd" in caplog.text
    again = runner.invoke(args=["notifications", "send", "--limit", "5"])
    assert again.exit_code == 0 and "Emails sent: 0" in again.output
    assert "Tasks created: 0" in again.output


def test_cli_refuses_a_bad_limit_and_incomplete_smtp_settings(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["notifications", "send", "--limit", "0"]).exit_code == 2
    # SMTP settings are read with the rest of the configuration (portal/config.py).
    app.config.update(SMTP_HOST="mail.example.test", SMTP_USER="", SMTP_FROM="")
    result = runner.invoke(args=["notifications", "send"])
    assert result.exit_code == 2 and "SMTP_FROM" in result.output


# --- two senders at once (PostgreSQL) ------------------------------------------------------------

@pytest.mark.postgres
def test_two_senders_at_once_never_send_the_same_notification(empty_pg_schema_url):
    engine = make_engine(empty_pg_schema_url, pool_size=4)
    Base.metadata.create_all(engine)
    app = create_app({**BASE_CONFIG, "DB_BIND": engine})
    factory = app.extensions["trellis.session_factory"]
    try:
        with factory() as db:
            f = Factories(db)
            for _ in range(12):
                partner = f.partner()
                f.user(partner=partner)
                queue(db, partner)
        mailer = FakeMailer(delay=0.02)
        barrier = threading.Barrier(2)
        errors = []

        def sender():
            try:
                with app.app_context(), factory() as session:
                    barrier.wait()
                    notifications.send_pending(session, mailer=mailer)
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=sender) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert errors == []
        recipients = [to[0] for to, _s, _b in mailer.sent]
        assert len(recipients) == 12 and len(set(recipients)) == 12
        with factory() as db:
            assert set(db.scalars(select(Notification.status))) == {"sent"}
    finally:
        engine.dispose()


# --- the tasks page ------------------------------------------------------------------------------

def make_task(db, partner, title, **kw):
    task = Task(partner_id=partner.id, assignee_id=partner.account_manager_id, kind="phone",
                title=title, due_on=datetime.now(UTC).date(), **kw)
    db.add(task)
    db.commit()
    return task


def test_tasks_page_shows_only_the_managers_partners_and_marks_done(app, db, f):
    manager, other = f.user(role="account_manager"), f.user(role="account_manager")
    mine = f.partner(name="Mine Grocers", account_manager_id=manager.id)
    theirs = f.partner(name="Theirs Deli", account_manager_id=other.id)
    my_task = make_task(db, mine, "Call Mine Grocers")
    their_task = make_task(db, theirs, "Call Theirs Deli")
    make_task(db, mine, "Already called", status="done")
    client = app.test_client()
    sign_in(client, manager)
    page = client.get("/manage/tasks")
    assert page.status_code == 200
    assert "Call Mine Grocers" in page.text and "Theirs Deli" not in page.text
    assert "Already called" not in page.text
    assert client.post(f"/manage/tasks/{their_task.id}/done").status_code == 404
    response = client.post(f"/manage/tasks/{my_task.id}/done")
    assert response.status_code == 302 and response.headers["Location"] == "/manage/tasks"
    db.expire_all()
    assert db.get(Task, my_task.id).status == "done" and db.get(Task, my_task.id).done_at
    assert db.get(Task, their_task.id).status == "open"
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "task_done"))
    assert (event.actor_id, event.target_id, event.partner_id) == (manager.id, my_task.id, mine.id)
    assert "No open tasks." in client.get("/manage/tasks").text
    # Done twice: a message, not a second audit event.
    client.post(f"/manage/tasks/{my_task.id}/done")
    assert db.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "task_done")) == 1


def test_admin_sees_every_open_task_and_partners_users_cannot(app, db, f):
    manager = f.user(role="account_manager")
    make_task(db, f.partner(name="Alpha Store", account_manager_id=manager.id), "Visit Alpha")
    make_task(db, f.partner(name="Beta Store"), "Visit Beta")
    admin = f.user(role="admin")
    client = app.test_client()
    sign_in(client, admin)
    page = client.get("/manage/tasks").text
    assert "Visit Alpha" in page and "Visit Beta" in page
    for role in ("buyer", "partner_admin"):
        other = app.test_client()
        sign_in(other, f.user(role=role))
        assert other.get("/manage/tasks").status_code == 403
        assert other.post("/manage/tasks/1/done").status_code == 403
