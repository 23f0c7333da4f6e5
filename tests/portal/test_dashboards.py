"""Dashboards: each role sees what it acts on, only of its own partners, in a fixed number of
queries; the buyer's spend chart counts months in the wholesaler's time zone."""
from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import event

from portal.home import quiet, spend
from portal.models import Notification, Task
from portal.workspace import rhythm
from tests.portal.helpers import sign_in

NOW = datetime(2026, 3, 15, 10, 0, tzinfo=UTC)


@contextmanager
def counting(app):
    """Count the SQL statements run while the block runs."""
    engine = app.extensions["trellis.session_factory"].kw["bind"]
    statements = []

    def count(*_args):
        statements.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def client_for(app, user):
    client = app.test_client()
    assert sign_in(client, user).status_code == 302
    return client


# --- the buyer ------------------------------------------------------------------------------------

def test_buyer_sees_open_orders_with_status_and_promised_date_and_the_last_order(app, f):
    buyer = f.user(partner=f.partner(name="Own Grocers"))
    other = f.partner(name="Other Deli")
    with time_machine.travel(NOW, tick=False):
        confirmed = f.order(buyer.partner, status="confirmed", promised_date=date(2026, 3, 18),
                            created_at=NOW - timedelta(days=2))
        f.order(buyer.partner, status="delivered", created_at=NOW - timedelta(days=30))
        cancelled = f.order(buyer.partner, status="cancelled", created_at=NOW - timedelta(days=1))
        theirs = f.order(other, status="submitted", created_at=NOW - timedelta(hours=1))
        page = client_for(app, buyer).get("/dashboard").text
    opened = page.split('id="open-orders-title"')[1].split("</section>")[0]
    assert "1 order placed and not yet delivered or cancelled" in opened
    assert f"Order #{confirmed.id}" in opened and "confirmed" in opened and "Mar 18, 2026" in opened
    assert f"#{cancelled.id}" not in opened and f"#{theirs.id}" not in page and "Other Deli" not in page
    last = page.split('id="last-order-title"')[1].split("</section>")[0]
    assert f"Order #{confirmed.id}" in last  # the cancelled one is not offered to repeat
    assert 'action="/orders/reorder-last"' in last and "Reorder last order" in last


def test_a_new_buyers_lists_say_what_to_do_next(app, f):
    with time_machine.travel(NOW, tick=False):
        page = client_for(app, f.user()).get("/dashboard").text
    assert "No open orders" in page and "You have not ordered yet" in page
    assert "nothing to compare" in page
    assert page.count('href="/catalog"') >= 3


def test_the_chart_counts_orders_in_the_wholesalers_months_net_without_cancelled(app, f, db):
    partner = f.partner()
    other = f.partner()
    # 23:30 UTC on 31 January is 00:30 on 1 February in Warsaw: a February order.
    f.order(partner, lines=[(f.product(base_price=Decimal("100.00")), 1)],
            created_at=datetime(2026, 1, 31, 23, 30, tzinfo=UTC))
    f.order(partner, lines=[(f.product(base_price=Decimal("40.00")), 1)],
            created_at=datetime(2026, 1, 31, 22, 30, tzinfo=UTC))  # 23:30 in Warsaw: January
    # 23:30 UTC on New Year's Eve is already this year in Warsaw.
    f.order(partner, lines=[(f.product(base_price=Decimal("7.50")), 2)],
            created_at=datetime(2025, 12, 31, 23, 30, tzinfo=UTC))
    f.order(partner, lines=[(f.product(base_price=Decimal("60.00")), 1)],
            created_at=datetime(2025, 2, 10, 12, 0, tzinfo=UTC))
    f.order(partner, lines=[(f.product(base_price=Decimal("999.00")), 1)], status="cancelled",
            created_at=datetime(2026, 2, 10, 12, 0, tzinfo=UTC))
    f.order(other, lines=[(f.product(base_price=Decimal("555.00")), 1)],
            created_at=datetime(2026, 2, 10, 12, 0, tzinfo=UTC))
    f.order(partner, lines=[(f.product(base_price=Decimal("33.00")), 1)],
            created_at=datetime(2024, 12, 31, 22, 59, tzinfo=UTC))  # 2024 in Warsaw: not shown
    result = spend.yearly_spend(db, partner.id, time_zone="Europe/Warsaw", now=NOW)
    this_year = {m.month.month: m.this_year for m in result.months}
    last_year = {m.month.month: m.last_year for m in result.months}
    assert this_year[1] == Decimal("55.00") and this_year[2] == Decimal("100.00")
    assert this_year[3] == Decimal("0") and this_year[4] is None  # April is still to come
    assert last_year[2] == Decimal("60.00") and sum(last_year.values()) == Decimal("60.00")
    assert (result.this_year_to_date, result.last_year_to_date) == (Decimal("155.00"), Decimal("60.00"))
    # In UTC the same orders fall in other months: the zone decides.
    utc = spend.yearly_spend(db, partner.id, time_zone="UTC", now=NOW)
    assert [m.this_year for m in utc.months[:2]] == [Decimal("140.00"), Decimal("0")]
    # The bars follow the amounts: February this year is the tallest, and April has none.
    bars = {(b.series, b.month): b for b in result.chart.bars}
    assert bars[("this", date(2026, 2, 1))].height > bars[("this", date(2026, 1, 1))].height > 0
    assert ("this", date(2026, 4, 1)) not in bars and ("last", date(2025, 4, 1)) in bars


def test_the_chart_on_the_page_is_svg_with_its_figures_in_a_table_in_both_languages(app, f, db):
    buyer = f.user()
    f.order(buyer.partner, lines=[(f.product(base_price=Decimal("1234.50")), 1)],
            created_at=datetime(2026, 1, 31, 23, 30, tzinfo=UTC))
    f.order(buyer.partner, lines=[(f.product(base_price=Decimal("80.00")), 1)],
            created_at=datetime(2025, 2, 3, 9, 0, tzinfo=UTC))
    with time_machine.travel(NOW, tick=False):
        client = client_for(app, buyer)
        page = client.get("/dashboard").text
        chart = page.split('id="spend-title"')[1].split("</section>")[0]
        assert "<svg" in chart and 'role="img"' in chart and "style=" not in chart and "<script" not in chart
        assert "<title>Feb 2026: PLN\u00a01,234.50</title>" in chart
        table = chart.split("<details")[1].split("</details>")[0]
        row = re.search(r"<th scope=\"row\">February</th>(.*?)</tr>", table, re.S).group(1)
        assert "PLN\u00a080.00" in row and "PLN\u00a01,234.50" in row
        january = re.search(r"<th scope=\"row\">January</th>(.*?)</tr>", table, re.S).group(1)
        assert "PLN\u00a00.00" in january and "1,234.50" not in january
        assert "Europe/Warsaw" in chart and "Cancelled orders are not counted" in chart
        db.get(type(buyer), buyer.id).locale = "pl"
        db.commit()
        polish = client.get("/dashboard").text
    assert "1\u00a0234,50\u00a0zł" in polish and "luty" in polish.lower()


# --- the account manager --------------------------------------------------------------------------

@pytest.fixture
def portfolio(f, db):
    """A manager with two partners (one quiet) and another manager's partner with the same things."""
    manager, other = f.user(role="account_manager", name="Mia"), f.user(role="account_manager")
    busy = f.partner(name="Busy Grocers", account_manager_id=manager.id)
    silent = f.partner(name="Silent Deli", account_manager_id=manager.id)
    theirs = f.partner(name="Theirs Market", account_manager_id=other.id)
    for partner in (busy, silent, theirs):
        partner.created_at = NOW - timedelta(days=400)
    db.commit()
    for week in range(0, 30):  # every week until now
        f.order(busy, status="delivered", created_at=NOW - timedelta(days=7 * week + 1))
        f.order(theirs, status="delivered", created_at=NOW - timedelta(days=7 * week + 40))
    for week in range(10, 30):  # every week, until ten weeks ago
        f.order(silent, status="delivered", created_at=NOW - timedelta(days=7 * week))
    waiting = f.order(busy, status="submitted", created_at=NOW - timedelta(hours=5))
    their_waiting = f.order(theirs, status="submitted", created_at=NOW - timedelta(hours=3))
    db.add_all([Task(partner_id=busy.id, assignee_id=manager.id, kind="phone", title="Call Busy",
                     due_on=NOW.date()),
                Task(partner_id=theirs.id, assignee_id=other.id, kind="visit", title="Visit Theirs",
                     due_on=NOW.date())])
    db.commit()
    return manager, {"waiting": waiting, "their_waiting": their_waiting}


def test_manager_sees_orders_to_confirm_tasks_and_quiet_partners_of_their_own_only(app, portfolio):
    manager, orders = portfolio
    with time_machine.travel(NOW, tick=False):
        page = client_for(app, manager).get("/dashboard").text
    awaiting = page.split('id="awaiting-title"')[1].split("</section>")[0]
    assert f"Order #{orders['waiting'].id}" in awaiting and "Busy Grocers" in awaiting
    assert "1 order of your partners is submitted and waits for confirmation" in awaiting
    assert "Theirs Market" not in page and f"#{orders['their_waiting'].id}" not in page
    tasks = page.split('id="tasks-title"')[1].split("</section>")[0]
    assert "Call Busy" in tasks and "Visit Theirs" not in page and "1 open task of your partners" in tasks
    quiet_list = page.split('id="quiet-title"')[1].split("</section>")[0]
    assert "nine in ten of its own gaps" in quiet_list  # the rule, in a sentence
    assert "Silent Deli" in quiet_list and "Busy Grocers" not in quiet_list
    assert "usually every 7 days" in quiet_list and "overdue after 7 days" in quiet_list
    assert "1 active partner has gone quiet" in quiet_list
    assert "Add a task for Silent Deli" in quiet_list


def test_quiet_means_longer_than_nine_in_ten_of_the_partners_own_gaps():
    today = NOW.date()
    weekly = rhythm.rhythm([today - timedelta(days=7 * n + 8) for n in range(10)], today)
    assert rhythm.gone_quiet(weekly, 400) == (8, 7.0)  # past every one of its 7-day gaps
    on_time = rhythm.rhythm([today - timedelta(days=7 * n + 6) for n in range(10)], today)
    assert rhythm.gone_quiet(on_time, 400) is None
    lumpy = rhythm.rhythm([today - timedelta(days=d) for d in (40, 47, 54, 100, 107, 114, 200)], today)
    assert lumpy.overdue_after > 40 and rhythm.gone_quiet(lumpy, 400) is None  # its long gaps count
    two_days = rhythm.rhythm([today - timedelta(days=91), today - timedelta(days=120)], today)
    assert rhythm.gone_quiet(two_days, 400) == (91, 90.0)  # no rhythm yet: after 90 days
    assert rhythm.gone_quiet(rhythm.rhythm([today - timedelta(days=90)], today), 400) is None


def test_a_partner_that_never_ordered_is_quiet_after_ninety_days(app, f, db):
    from portal.core.access import Actor

    manager = f.user(role="account_manager")
    old = f.partner(name="Never Ordered", account_manager_id=manager.id, created_at=NOW - timedelta(days=91))
    f.partner(name="Joined 90 Days Ago", account_manager_id=manager.id, created_at=NOW - timedelta(days=90))
    f.partner(name="Gone", status="churned", account_manager_id=manager.id, created_at=NOW - timedelta(days=900))
    found, total = quiet.quiet_partners(db, Actor.of(manager), now=NOW)
    assert total == 1 and [(q.partner_id, q.last_order_on, q.days_quiet) for q in found] == [(old.id, None, 91)]


def test_a_partner_whose_last_order_is_older_than_the_rhythm_window_shows_that_order(app, f, db):
    """The rhythm reads two years of order days; an order before that is still its last order,
    not "no order yet", and it has been quiet since then, not since it joined."""
    from portal.core.access import Actor

    manager = f.user(role="account_manager")
    old = f.partner(name="Old Buyer", account_manager_id=manager.id, created_at=NOW - timedelta(days=1500))
    f.order(old, status="delivered", created_at=NOW - timedelta(days=800))
    found, total = quiet.quiet_partners(db, Actor.of(manager), now=NOW)
    assert total == 1
    assert (found[0].last_order_on, found[0].days_quiet) == ((NOW - timedelta(days=800)).date(), 800)
    with time_machine.travel(NOW, tick=False):
        page = client_for(app, manager).get("/dashboard").text
    quiet_list = page.split('id="quiet-title"')[1].split("</section>")[0]
    assert "800 days ago" in quiet_list and "no order yet" not in quiet_list


def test_overdue_after_says_the_last_day_still_on_time(app, f, db):
    """Gaps of 7, 7 and 8 days: overdue past 7.8 days, so at 8 days; the page says "after 7"."""
    manager = f.user(role="account_manager")
    lumpy = f.partner(name="Lumpy Shop", account_manager_id=manager.id, created_at=NOW - timedelta(days=400))
    for days in (8, 16, 23, 30):
        f.order(lumpy, status="delivered", created_at=NOW - timedelta(days=days))
    with time_machine.travel(NOW, tick=False):
        page = client_for(app, manager).get("/dashboard").text
    quiet_list = page.split('id="quiet-title"')[1].split("</section>")[0]
    assert "Lumpy Shop" in quiet_list and "8 days ago" in quiet_list
    assert "overdue after 7 days" in quiet_list


def test_the_dashboard_and_the_portfolio_agree_on_who_is_overdue(app, f, db):
    """The dashboard's quiet partners with a rhythm are exactly the portfolio's overdue alerts,
    in the same order; before, the dashboard used twice the median gap and the portfolio the 90th
    percentile, so a lumpy partner could be quiet on one page and on time on the other."""
    from portal.core.access import Actor
    from portal.workspace import portfolio_table

    manager = f.user(role="account_manager")
    shapes = {"Weekly, stopped": [7 * n + 30 for n in range(20)],
              "Lumpy, on time": [40, 47, 54, 100, 107, 114, 200, 207],
              "Lumpy, late": [130, 137, 144, 190, 197, 204, 300],
              "Monthly": [30 * n + 5 for n in range(12)],
              "Two orders": [100, 130]}
    for name, ago in shapes.items():
        partner = f.partner(name=name, account_manager_id=manager.id, created_at=NOW - timedelta(days=800))
        for days in ago:
            f.order(partner, status="delivered", created_at=NOW - timedelta(days=days))
    me = Actor.of(manager)
    found, _total = quiet.quiet_partners(db, me, now=NOW)
    alerts = portfolio_table.portfolio(db, me, portfolio_table.Filters(), now=NOW).alerts
    with_rhythm = [q.name for q in found if q.usual_gap_days is not None]
    assert with_rhythm == [r.partner.name for r in alerts] == ["Lumpy, late", "Weekly, stopped"]
    assert [q.name for q in found if q.usual_gap_days is None] == ["Two orders"]


def test_a_managers_empty_dashboard_says_what_to_do_next(app, f):
    manager = f.user(role="account_manager")
    page = client_for(app, manager).get("/dashboard").text
    assert "No order is waiting for confirmation" in page and 'href="/manage/orders"' in page
    assert "No open tasks" in page and 'href="/manage/tasks/new"' in page
    assert "No partner has gone quiet" in page


# --- the admin ------------------------------------------------------------------------------------

def test_admin_sees_every_order_to_confirm_new_partners_and_failed_notifications(app, f, db, portfolio):
    admin = f.user(role="admin")
    fresh = f.partner(name="Fresh Start", created_at=NOW - timedelta(days=3))
    db.add_all([
        Notification(partner_id=fresh.id, kind="thank_you_first_order", subject_key="a", status="failed",
                     attempts=5, last_error="SMTPRecipientsRefused: 550", created_at=NOW - timedelta(days=1)),
        Notification(partner_id=fresh.id, kind="thank_you_first_order", subject_key="b", status="pending",
                     attempts=2, last_error="retrying", created_at=NOW - timedelta(days=1)),
    ])
    db.commit()
    with time_machine.travel(NOW, tick=False):
        page = client_for(app, admin).get("/dashboard").text
    awaiting = page.split('id="awaiting-title"')[1].split("</section>")[0]
    assert "2 orders are submitted and wait for confirmation" in awaiting
    assert "Busy Grocers" in awaiting and "Theirs Market" in awaiting
    new = page.split('id="new-partners-title"')[1].split("</section>")[0]
    assert "1 partner added in the last 30 days" in new and "Fresh Start" in new and "Silent Deli" not in new
    failed = page.split('id="failed-title"')[1].split("</section>")[0]
    assert "1 notification could not be delivered" in failed and "SMTPRecipientsRefused: 550" in failed
    assert "Thank-you for a first order" in failed and "retrying" not in failed


def test_an_admins_empty_dashboard_says_what_to_do_next(app, f):
    page = client_for(app, f.user(role="admin")).get("/dashboard").text
    assert "No partner was added in the last 30 days" in page and 'href="/admin/partners/new"' in page
    assert "No failed notifications, so nothing to do" in page


# --- a fixed number of queries -----------------------------------------------------------------

@pytest.mark.parametrize("role", ["buyer", "account_manager", "admin"])
def test_each_dashboard_runs_the_same_number_of_queries_however_much_data(app, f, db, role):
    manager = f.user(role="account_manager")
    partner = f.partner(account_manager_id=manager.id)
    user = {"buyer": lambda: f.user(partner=partner), "account_manager": lambda: manager,
            "admin": lambda: f.user(role="admin")}[role]()
    client = client_for(app, user)

    def grow(n):
        for _ in range(n):
            other = f.partner(account_manager_id=manager.id, created_at=datetime.now(UTC) - timedelta(days=2))
            for status in ("submitted", "confirmed", "delivered"):
                f.order(partner, status=status, promised_date=date.today())
                f.order(other, status=status)
            db.add(Task(partner_id=other.id, assignee_id=manager.id, kind="phone", title="Call"))
            db.add(Notification(partner_id=other.id, kind="thank_you_first_order", subject_key=f"k{other.id}",
                                status="failed", attempts=5))
        db.commit()

    grow(1)
    with counting(app) as few:
        assert client.get("/dashboard").status_code == 200
    grow(6)
    with counting(app) as many:
        assert client.get("/dashboard").status_code == 200
    assert len(many) == len(few) <= 14
