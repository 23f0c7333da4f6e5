"""The portfolio page and CSV, the partner page's relationship sections, and the NPS loop."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from portal.models import AuditEvent, Feedback, Interaction, Partner, StageChange, Task
from portal.workspace import feedback
from portal.workspace.kpis import at_noon
from tests.portal.helpers import sign_in


def _client(app, user):
    client = app.test_client()
    assert sign_in(client, user).status_code == 302
    return client


def _manager_with_partners(f):
    manager = f.user(role="account_manager", name="Mia Manager")
    product = f.product()
    regular = f.partner(name="Regular Shop", account_manager_id=manager.id)
    lapsed = f.partner(name="=Lapsed Shop", account_manager_id=manager.id)
    today = datetime.now(UTC).date()
    for i in range(12):
        f.order(regular, lines=[(product, 2)], status="delivered",
                created_at=at_noon(today - timedelta(days=7 * i + 1)))
        f.order(lapsed, lines=[(product, 5)], status="delivered",
                created_at=at_noon(today - timedelta(days=200 + 7 * i)))
    other = f.partner(name="Not Mine", account_manager_id=f.user(role="account_manager").id)
    f.order(other, lines=[(product, 1)])
    return manager, regular, lapsed, other


def test_the_portfolio_lists_only_my_partners_with_alerts_and_sorting(app, f):
    manager, regular, lapsed, other = _manager_with_partners(f)
    client = _client(app, manager)
    page = client.get("/manage/portfolio")
    assert page.status_code == 200
    assert "Regular Shop" in page.text and "=Lapsed Shop" in page.text and "Not Mine" not in page.text
    alerts = page.text.split('id="alerts-title"')[1].split("</section>")[0]
    assert "=Lapsed Shop" in alerts and "Regular Shop" not in alerts
    by_risk = page.text.index("=Lapsed Shop") < page.text.index("Regular Shop")
    assert by_risk  # highest risk first by default
    by_name = client.get("/manage/portfolio?sort=partner&dir=asc").text
    body = by_name.split("<tbody>")[1]
    assert body.index("=Lapsed Shop") < body.index("Regular Shop")
    only = client.get("/manage/portfolio?risk=high").text.split("<tbody>")[1]
    assert "=Lapsed Shop" in only and "Regular Shop" not in only


def test_bad_portfolio_arguments_are_ignored_with_a_message(app, f):
    manager, *_ = _manager_with_partners(f)
    client = _client(app, manager)
    for query in ("sort=evil", "dir=sideways", "stage=king", "risk=9", "page=-1", "manager=x", "q=" + "a" * 500,
                  "sort=__class__&dir=desc&page=99999999999999999999"):
        response = client.get(f"/manage/portfolio?{query}")
        assert response.status_code == 200, query
        assert "Ignored filters" in response.text, query


def test_the_portfolio_csv_is_filtered_and_injection_safe(app, f):
    manager, *_ = _manager_with_partners(f)
    client = _client(app, manager)
    response = client.get("/manage/portfolio/export.csv?sort=partner&dir=asc")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    lines = response.text.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("partner_code,partner_name,stage,suggested_stage,net_sales_last_12_months")
    assert len(lines) == 3 and "'=Lapsed Shop" in lines[1] and "Not Mine" not in response.text
    high = client.get("/manage/portfolio/export.csv?risk=low").text
    assert "Lapsed" not in high and "Regular Shop" in high


def test_an_admin_sees_everyone_and_filters_by_manager(app, f):
    manager, regular, lapsed, other = _manager_with_partners(f)
    client = _client(app, f.user(role="admin"))
    assert "Not Mine" in client.get("/manage/portfolio").text
    mine = client.get(f"/manage/portfolio?manager={manager.id}").text
    assert "Not Mine" not in mine and "Regular Shop" in mine


def test_the_partner_page_shows_the_relationship_and_the_stage_can_be_set(app, f, db):
    manager, regular, *_ = _manager_with_partners(f)
    client = _client(app, manager)
    page = client.get(f"/manage/partners/{regular.id}").text
    assert "Suggested from behaviour" in page and "client" in page  # repeat orders, default stage customer
    # Another stage than the suggestion needs a note: 422, nothing saved.
    refused = client.post(f"/manage/partners/{regular.id}/stage", data={"stage": "partner", "suggested": "client"})
    assert refused.status_code == 422 and "Say why" in refused.text
    assert db.scalar(select(StageChange)) is None
    ok = client.post(f"/manage/partners/{regular.id}/stage", data={"stage": "client", "suggested": "client"})
    assert ok.status_code == 302
    client.post(f"/manage/partners/{regular.id}/stage",
                data={"stage": "supporter", "suggested": "client", "note": "Praised us at the fair"})
    db.expire_all()
    assert db.get(Partner, regular.id).stage == "supporter"
    changes = db.scalars(select(StageChange).order_by(StageChange.id)).all()
    assert [(c.from_stage, c.to_stage, c.suggested_stage, c.changed_by_id) for c in changes] == [
        ("customer", "client", "client", manager.id), ("client", "supporter", "client", manager.id)]
    assert "Praised us at the fair" in client.get(f"/manage/partners/{regular.id}").text
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "partner_stage_set")) is not None


def test_interactions_are_logged_validated_and_audited(app, f, db):
    manager, regular, *_ = _manager_with_partners(f)
    client = _client(app, manager)
    today = datetime.now(UTC).date()
    bad = client.post(f"/manage/partners/{regular.id}/interactions",
                      data={"kind": "call", "happened_on": today.isoformat(), "summary": ""})
    assert bad.status_code == 422
    future = client.post(f"/manage/partners/{regular.id}/interactions",
                         data={"kind": "call", "happened_on": (today + timedelta(days=30)).isoformat(), "summary": "x"})
    assert future.status_code == 422 and "future" in future.text
    wrong_kind = client.post(f"/manage/partners/{regular.id}/interactions",
                             data={"kind": "fax", "happened_on": today.isoformat(), "summary": "x"})
    assert wrong_kind.status_code == 422
    ok = client.post(f"/manage/partners/{regular.id}/interactions",
                     data={"kind": "visit", "happened_on": today.isoformat(), "summary": "Checked the shelves"})
    assert ok.status_code == 302
    [entry] = db.scalars(select(Interaction)).all()
    assert (entry.kind, entry.author_id, entry.partner_id) == ("visit", manager.id, regular.id)
    assert "Checked the shelves" in client.get(f"/manage/partners/{regular.id}").text
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "interaction_logged")) is not None


def test_the_nps_loop_once_a_quarter_with_its_follow_up(app, f, db):
    manager, regular, *_ = _manager_with_partners(f)
    buyer = f.user(partner=regular, name="Bea Buyer")
    colleague = f.user(partner=regular)
    client = _client(app, buyer)
    assert "/feedback" in client.get("/dashboard").text  # offered after a delivered order
    assert client.get("/feedback").status_code == 200
    assert client.post("/feedback", data={"score": "11"}).status_code == 422
    assert client.post("/feedback", data={"score": "3", "comment": "Late twice"}).status_code == 302
    [answer] = db.scalars(select(Feedback)).all()
    task = db.get(Task, answer.task_id)
    assert (task.kind, task.assignee_id, task.status, task.note) == ("feedback", manager.id, "open", "Late twice")
    again = client.post("/feedback", data={"score": "9"}, follow_redirects=True)
    assert "answered this quarter already" in again.text
    assert len(db.scalars(select(Feedback)).all()) == 1
    assert "/feedback" not in client.get("/dashboard").text.split("<main")[1]
    # Per user: a colleague answers too; a 9 opens no task.
    assert _client(app, colleague).post("/feedback", data={"score": "9"}).status_code == 302
    assert db.scalar(select(Feedback).where(Feedback.user_id == colleague.id)).task_id is None
    # The loop on the staff page: feedback → task → done, with dates and who.
    staff = _client(app, manager)
    assert "task opened" in staff.get(f"/manage/partners/{regular.id}").text
    staff.post(f"/manage/tasks/{task.id}/done")
    page = staff.get(f"/manage/partners/{regular.id}").text
    assert "done" in page and "Mia Manager" in page and "Late twice" in page
    assert "NPS" in staff.get("/manage/portfolio").text


def test_feedback_is_asked_only_after_a_delivered_order_and_quarters_turn(f, db):
    partner = f.partner()
    buyer = f.user(partner=partner)
    from portal.core.access import Actor

    me = Actor.of(buyer)
    today = datetime(2026, 3, 31, tzinfo=UTC).date()
    assert not feedback.may_answer(db, me, today)
    f.order(partner, status="delivered")
    assert feedback.may_answer(db, me, today)
    feedback.give(db, me, score=8, comment="", today=today)
    assert not feedback.may_answer(db, me, today)
    assert feedback.may_answer(db, me, today + timedelta(days=1))  # 1 April: a new quarter
    assert feedback.quarter_of(today) == "2026Q1" and feedback.next_quarter_starts(today).isoformat() == "2026-04-01"


def test_a_manager_never_sees_another_managers_partners_on_the_portfolio(app, f, db):
    manager, regular, lapsed, other = _manager_with_partners(f)
    client = _client(app, manager)
    for query in ("", f"?manager={other.account_manager_id}", "?q=Not+Mine"):
        assert f"/manage/partners/{other.id}\"" not in client.get(f"/manage/portfolio{query}").text
        assert other.code not in client.get(f"/manage/portfolio/export.csv{query}").text


def test_partner_users_reach_no_staff_relationship_page(app, f):
    manager, regular, *_ = _manager_with_partners(f)
    client = _client(app, f.user(partner=regular, role="partner_admin"))
    for method, path in [("GET", "/manage/portfolio"), ("GET", "/manage/portfolio/export.csv"),
                         ("POST", f"/manage/partners/{regular.id}/stage"),
                         ("POST", f"/manage/partners/{regular.id}/interactions")]:
        assert client.open(path, method=method).status_code == 403, path
    staff = _client(app, manager)
    assert staff.get("/feedback").status_code == 403


def test_the_portfolio_page_issues_the_same_number_of_queries_for_few_and_many_partners(app, f, db):
    from contextlib import contextmanager

    from sqlalchemy import event

    from portal.models import Feedback, RecurringOrder

    @contextmanager
    def counting():
        engine = app.extensions["trellis.session_factory"].kw["bind"]
        statements = []

        def count(*_args):
            statements.append(1)

        event.listen(engine, "before_cursor_execute", count)
        try:
            yield statements
        finally:
            event.remove(engine, "before_cursor_execute", count)

    manager = f.user(role="account_manager")
    product = f.product()
    today = datetime.now(UTC).date()

    def add_partners(n):
        for _ in range(n):
            p = f.partner(account_manager_id=manager.id)
            for i in range(4):
                f.order(p, lines=[(product, 1)], status="delivered", promised_date=today,
                        created_at=at_noon(today - timedelta(days=9 * i + 3)), delivered_at=datetime.now(UTC))
            db.add_all([RecurringOrder(partner_id=p.id, cadence="monthly", start_date=today, status="active"),
                        Feedback(partner_id=p.id, quarter="2026Q1", score=5)])
        db.commit()

    client = _client(app, manager)
    add_partners(2)
    client.get("/manage/portfolio")
    with counting() as few:
        assert client.get("/manage/portfolio").status_code == 200
    add_partners(10)
    with counting() as many:
        assert client.get("/manage/portfolio").status_code == 200
    assert len(few) == len(many)


def test_numbers_in_the_csv_stay_numbers_even_when_negative(app, f):
    manager = f.user(role="account_manager")
    shrinking = f.partner(name="Shrinking", account_manager_id=manager.id)
    product = f.product()
    now = datetime.now(UTC)
    f.order(shrinking, lines=[(product, 10)], created_at=now - timedelta(days=400))
    f.order(shrinking, lines=[(product, 5)], created_at=now - timedelta(days=10))
    text = _client(app, manager).get("/manage/portfolio/export.csv").text
    assert ",-0.5000," in text and "'-" not in text


def test_the_rhythm_is_written_with_the_right_plural_in_both_languages(app, f, db):
    """A partner ordering every day: "every 1 day", not "every 1 days" ("co 1 dzień" in Polish)."""
    manager = f.user(role="account_manager")
    daily = f.partner(name="Daily Deli", account_manager_id=manager.id)
    today = datetime.now(UTC).date()
    for i in range(1, 6):
        f.order(daily, status="delivered", created_at=at_noon(today - timedelta(days=i)))
    client = _client(app, manager)
    page = client.get(f"/manage/partners/{daily.id}").text
    assert "Usually every 1 day; overdue after 1 day without an order." in page
    manager = db.get(type(manager), manager.id)
    manager.locale = "pl"
    db.commit()
    polish = client.get(f"/manage/partners/{daily.id}").text
    assert "Zwykle co 1 dzień; zaległy po 1 dniu bez zamówienia." in polish
