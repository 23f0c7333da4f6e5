"""Who brought whom: the leaderboard, the revenue of referred partners, conversion over time."""
from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from portal.core.access import Actor
from portal.models import Referral
from portal.referrals import attribution
from tests.portal.helpers import sign_in

NOW = datetime(2027, 3, 15, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


_SEQ = itertools.count(1)


def _referral(db, referrer, status, created, converted=None):
    n = [next(_SEQ)]
    row = Referral(referrer_id=referrer.id, source="portal", company_name=f"Shop {n[0]}", contact_name="A",
                   email=f"a{n[0]}@x.pl", consent=True, company_key=f"shop {n[0]}", email_key=f"a{n[0]}@x.pl",
                   status=status, idempotency_key=f"k{n[0]}", request_hash="h", created_at=created,
                   converted_at=converted)
    db.add(row)
    db.commit()
    return row


@pytest.fixture
def world(f, db):
    manager = f.user(role="account_manager")
    star = f.partner(name="Star Referrer", account_manager_id=manager.id)
    quiet = f.partner(name="Quiet Referrer", account_manager_id=manager.id)
    elsewhere = f.partner(name="Other Manager's Partner")
    brought = f.partner(name="Brought In", referred_by_id=star.id)
    product = f.product(base_price=Decimal("10.00"))
    f.order(brought, lines=((product, 3),), status="delivered", created_at=NOW - timedelta(days=30))
    f.order(brought, lines=((product, 5),), status="cancelled", created_at=NOW - timedelta(days=20))
    f.order(brought, lines=((product, 7),), status="delivered", created_at=NOW - timedelta(days=400))
    jan = datetime(2027, 1, 10, tzinfo=UTC)
    _referral(db, star, "converted", jan, converted=jan + timedelta(days=12))
    _referral(db, star, "submitted", jan)
    _referral(db, star, "duplicate", jan)
    _referral(db, quiet, "rejected", datetime(2026, 11, 2, tzinfo=UTC))
    _referral(db, elsewhere, "submitted", jan)
    return {"manager": manager, "star": star, "quiet": quiet}


def test_the_leaderboard_counts_revenue_of_referred_partners_in_the_last_year(world, db):
    rows = attribution.by_referrer(db, Actor(world["manager"].id, "account_manager"))
    assert [r.name for r in rows] == ["Star Referrer", "Quiet Referrer"]  # not the other manager's
    star = rows[0]
    assert (star.made, star.duplicates, star.converted) == (3, 1, 1)
    assert star.rate == Decimal("0.5")  # duplicates left out
    assert star.revenue == Decimal("30.00")  # not the cancelled order, not the one 400 days ago
    assert rows[1].revenue == 0 and rows[1].rate == 0


def test_conversion_over_time_by_quarter(world, db):
    quarters = attribution.over_time(db, Actor(None, "admin"), today=date(2027, 3, 15))
    assert len(quarters) == 8 and quarters[-1].start == date(2027, 1, 1) and quarters[0].start == date(2025, 4, 1)
    q1 = quarters[-1]
    assert (q1.submitted, q1.converted, q1.median_days) == (3, 1, 12.0)  # star's two + elsewhere's
    assert quarters[-2].submitted == 1 and quarters[-2].rate == 0


def test_the_report_page_and_its_csv(app, world):
    client = app.test_client()
    sign_in(client, world["manager"])
    page = client.get("/manage/referrals/report").text
    assert "Star Referrer" in page and "PLN\u00a030.00" in page and "50%" in page and "Q1 2027" in page
    csv = client.get("/manage/referrals/report.csv")
    assert csv.headers["Content-Type"].startswith("text/csv")
    lines = csv.text.strip().splitlines()
    assert lines[0].startswith("partner_code,partner_name,referrals")
    assert lines[1].split(",")[1:] == ["Star Referrer", "3", "1", "1", "0.5000", "30.00", "0.00"]
    assert "Other Manager" not in csv.text


def test_a_formula_in_a_partner_name_is_neutralised_in_the_csv(app, f, db):
    admin = f.user(role="admin")
    _referral(db, f.partner(name="=HYPERLINK(\"x\")"), "submitted", NOW - timedelta(days=1))
    client = app.test_client()
    sign_in(client, admin)
    assert "'=HYPERLINK" in client.get("/manage/referrals/report.csv").text
