"""Rhythm, churn risk, ladder suggestions and the KPIs on constructed histories."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event

from portal.models import Feedback, RecurringOrder
from portal.workspace import kpis, ladder, rhythm

TODAY = date(2026, 6, 1)
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def every(days: int, count: int, end: date = TODAY) -> list[date]:
    return [end - timedelta(days=days * i) for i in range(count)][::-1]


def test_percentile_is_linear_between_ranks():
    assert rhythm.percentile([10, 20, 30, 40, 50], 0.5) == 30
    assert rhythm.percentile([10, 20], 0.9) == pytest.approx(19)
    assert rhythm.percentile([7], 0.9) == 7


def test_a_regular_partner_is_not_overdue_until_past_its_own_rhythm():
    history = every(14, 20, end=TODAY - timedelta(days=10))
    r = rhythm.rhythm(history, TODAY)
    assert (r.usual_gap, r.overdue_after, r.days_since, r.overdue) == (14, 14, 10, False)
    assert rhythm.churn_risk(r) == "low"
    late = rhythm.rhythm(history, TODAY + timedelta(days=5))
    assert late.overdue and late.days_overdue == 1 and rhythm.churn_risk(late) == "medium"
    lapsed = rhythm.rhythm(history, TODAY + timedelta(days=30))
    assert rhythm.churn_risk(lapsed) == "high"  # 40 days > 2 × 14


def test_an_irregular_partner_gets_its_own_wider_limit():
    start = date(2025, 1, 1)
    history, day = [], start
    for gap in [10, 60, 15, 45, 20, 90, 12, 30, 25, 70]:
        day += timedelta(days=gap)
        history.append(day)
    history.insert(0, start)
    r = rhythm.rhythm(history, day + timedelta(days=75))
    assert r.usual_gap == 27.5 and r.overdue_after == pytest.approx(72)
    assert r.overdue and rhythm.churn_risk(r) == "medium"
    assert not rhythm.rhythm(history, day + timedelta(days=70)).overdue  # a monthly partner would be


def test_a_lapsed_partner_is_high_risk_and_a_falling_one_medium():
    history = every(30, 12, end=TODAY - timedelta(days=200))
    assert rhythm.churn_risk(rhythm.rhythm(history, TODAY)) == "high"
    fresh = rhythm.rhythm(every(30, 12), TODAY)
    assert rhythm.churn_risk(fresh, Decimal("-0.35")) == "medium"
    assert rhythm.churn_risk(fresh, Decimal("-0.10")) == "low"


def test_a_new_partner_with_one_order_has_no_rhythm_and_risk_by_days():
    r = rhythm.rhythm([TODAY - timedelta(days=20)], TODAY)
    assert not r.has_rhythm and not r.overdue and r.order_days == 1
    assert rhythm.churn_risk(r) == "low"
    assert rhythm.churn_risk(rhythm.rhythm([TODAY - timedelta(days=120)], TODAY)) == "medium"
    assert rhythm.churn_risk(rhythm.rhythm([TODAY - timedelta(days=400)], TODAY)) == "high"
    assert rhythm.churn_risk(rhythm.rhythm([], TODAY)) is None


def test_several_orders_on_one_day_are_one_order_day():
    assert rhythm.gaps([TODAY, TODAY, TODAY - timedelta(days=7)]) == [7]


def test_steady_needs_a_year_and_every_quarter():
    monthly = every(30, 14)
    assert rhythm.steady(monthly, TODAY)
    assert not rhythm.steady(every(30, 10), TODAY)  # under a year
    gap = [d for d in monthly if not 91 <= (TODAY - d).days < 182]
    assert not rhythm.steady(gap, TODAY)


@pytest.mark.parametrize(("behaviour", "stage"), [
    (dict(order_days=0), "prospect"),
    (dict(order_days=1), "customer"),
    (dict(order_days=5), "client"),
    (dict(order_days=5, latest_nps=8), "client"),
    (dict(order_days=5, latest_nps=9), "supporter"),
    (dict(order_days=5, latest_nps=3, referrals_made=1), "advocate"),
    (dict(order_days=20, active_standing_orders=1, steady=False), "client"),
    (dict(order_days=20, active_standing_orders=0, steady=True), "client"),
    (dict(order_days=20, active_standing_orders=1, steady=True), "partner"),
])
def test_ladder_suggestions(behaviour, stage):
    values = dict(order_days=0, latest_nps=None, referrals_made=0, active_standing_orders=0, steady=False)
    assert ladder.suggest(ladder.Behaviour(**{**values, **behaviour})) == stage


def test_nps_is_promoters_minus_detractors():
    assert kpis.nps([10, 9, 8, 3]) == 25
    assert kpis.nps([]) is None
    assert kpis.nps([0, 6]) == -100


@contextmanager
def counting(db):
    statements = []
    bind = db.get_bind()

    def count(_conn, _cursor, statement, *_args):
        # the PostgreSQL test fixture's SAVEPOINTs (each test's commits) are not the KPIs' queries
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):
            statements.append(1)

    event.listen(bind, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(bind, "before_cursor_execute", count)


def _history(f, partner, product, days, **kw):
    for day in days:
        f.order(partner, lines=[(product, 10)], created_at=kpis.at_noon(day), **kw)


def test_kpis_on_a_constructed_partner(f, db):
    partner, other = f.partner(), f.partner()
    product = f.product()  # 10.00 each: 100.00 an order
    _history(f, partner, product, every(30, 24, end=TODAY - timedelta(days=5)), status="delivered",
             promised_date=TODAY - timedelta(days=2), delivered_at=NOW - timedelta(days=3))
    f.order(partner, lines=[(product, 50)], status="cancelled", created_at=NOW - timedelta(days=1))
    f.order(partner, lines=[(product, 1)], status="delivered", created_at=NOW - timedelta(days=40),
            promised_date=TODAY - timedelta(days=35), delivered_at=NOW - timedelta(days=30))  # 10.00, late
    db.add_all([RecurringOrder(partner_id=partner.id, cadence="monthly", start_date=TODAY, status="active"),
                Feedback(partner_id=partner.id, quarter="2026Q2", score=10, created_at=NOW - timedelta(days=9)),
                Feedback(partner_id=partner.id, quarter="2026Q1", score=4, created_at=NOW - timedelta(days=90))])
    db.commit()
    with counting(db) as statements:
        found = kpis.compute(db, [partner.id, other.id], now=NOW)
    assert len(statements) == kpis.QUERIES
    k = found[partner.id]
    assert k.order_count == 25 and k.net_sales == Decimal("2410.00")
    assert k.last_12 == Decimal("1310.00") and k.previous_12 == Decimal("1100.00")
    assert k.growth == Decimal("210") / Decimal("1100") and k.retained
    assert k.average_order_value == Decimal("96.40")
    assert sum(k.revenue_by_year.values()) == k.net_sales and set(k.revenue_by_year) == {2024, 2025, 2026}
    assert (k.delivered_promised, k.delivered_on_time) == (25, 24)  # the one delivered late
    assert k.standing_orders == 1 and (k.referrals_made, k.referrals_converted) == (0, 0)
    assert (k.latest_nps, k.nps, k.nps_answers) == (10, 0, 2)
    assert k.rhythm.usual_gap == 30 and k.churn_risk == "low"
    assert k.steady and k.suggested_stage == "partner"
    # CLV: AOV × orders per year × 5
    assert k.lifetime_value == (k.average_order_value * k.orders_per_year * 5).quantize(Decimal("0.01"))
    empty = found[other.id]
    assert empty.order_count == 0 and empty.churn_risk is None and empty.suggested_stage == "prospect"
    assert empty.lifetime_value == 0 and empty.average_order_value is None and empty.growth is None


def test_kpis_take_the_same_number_of_queries_for_many_partners(f, db):
    product = f.product()
    few = [f.partner() for _ in range(2)]
    for p in few:
        _history(f, p, product, every(20, 3))
    with counting(db) as small:
        kpis.compute(db, [p.id for p in few], now=NOW)
    many = few + [f.partner() for _ in range(8)]
    for p in many[2:]:
        _history(f, p, product, every(10, 4))
    with counting(db) as large:
        kpis.compute(db, [p.id for p in many], now=NOW)
    assert len(small) == len(large) == kpis.QUERIES


def _referral(db, referrer, n: int, status: str = "submitted"):
    from portal.models import Referral

    db.add(Referral(referrer_id=referrer.id, source="portal", company_name=f"Prospect {n}",
                    contact_name="Pat", email=f"p{n}@prospect{n}.test", consent=True,
                    company_key=f"prospect {n}", email_key=f"p{n}@prospect{n}.test", status=status,
                    idempotency_key=f"key-{n}", request_hash="0" * 64))


def test_referrals_made_leave_out_duplicates_and_converted_are_counted_in_one_query(f, db):
    referrer, quiet = f.partner(), f.partner()
    for n, status in enumerate(("submitted", "rejected", "converted", "converted", "duplicate")):
        _referral(db, referrer, n, status)
    db.commit()
    with counting(db) as statements:
        found = kpis.compute(db, [referrer.id, quiet.id], now=NOW)
    assert len(statements) == kpis.QUERIES
    assert (found[referrer.id].referrals_made, found[referrer.id].referrals_converted) == (4, 2)
    assert (found[quiet.id].referrals_made, found[quiet.id].referrals_converted) == (0, 0)


def test_a_partner_who_made_a_referral_is_suggested_advocate(f, db):
    product = f.product()
    client, advocate, only_duplicate = f.partner(), f.partner(), f.partner()
    for p in (client, advocate, only_duplicate):
        _history(f, p, product, every(20, 4))
    _referral(db, advocate, 1)
    _referral(db, only_duplicate, 2, "duplicate")
    db.commit()
    found = kpis.compute(db, [client.id, advocate.id, only_duplicate.id], now=NOW)
    assert found[client.id].suggested_stage == "client"
    assert found[advocate.id].suggested_stage == "advocate"
    assert found[only_duplicate.id].suggested_stage == "client"  # a duplicate is no referral made


def test_order_days_are_the_wholesalers_days(f, db):
    from zoneinfo import ZoneInfo

    partner, product = f.partner(), f.product()
    # 23:30 UTC in summer (CEST, +2) and in winter (CET, +1) is the next day in Warsaw.
    for moment in (datetime(2026, 5, 1, 23, 30, tzinfo=UTC), datetime(2026, 1, 10, 23, 30, tzinfo=UTC),
                   datetime(2026, 3, 1, 10, tzinfo=UTC), datetime(2026, 3, 1, 11, tzinfo=UTC)):
        f.order(partner, lines=[(product, 1)], created_at=moment)
    days = kpis._order_days(db, [partner.id], NOW, ZoneInfo("Europe/Warsaw"))[partner.id]
    assert days == {date(2026, 5, 2), date(2026, 1, 11), date(2026, 3, 1)}
    assert kpis._order_days(db, [partner.id], NOW, UTC)[partner.id] == {
        date(2026, 5, 1), date(2026, 1, 10), date(2026, 3, 1)}
