"""Staff's page of standing-order runs across partners: filters, pages, CSV, who sees what."""
from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.core.access import Actor
from portal.models import AuditEvent, Product
from portal.recurring import engine, standing
from portal.recurring.standing import ScheduleData
from tests.portal.helpers import sign_in

START = date(2027, 1, 31)


@pytest.fixture
def runs(app, f, db):
    """A manager's partner with a placed date and a failed one, and another manager's partner."""
    manager, other = f.user(role="account_manager"), f.user(role="account_manager")
    mine = f.partner(name="=HYPERLINK(\"x\")", account_manager_id=manager.id)
    theirs = f.partner(name="Theirs", account_manager_id=other.id)
    water = f.product(sku="BEV-001", name="Still water 1.5 l", base_price=Decimal("1.20"))
    jam = f.product(sku="JAM-280", name="Strawberry jam 280 g", base_price=Decimal("3.50"))
    schedules = {}
    for key, partner, product in (("placed", mine, water), ("failing", mine, jam), ("theirs", theirs, water)):
        schedules[key] = standing.create(db, Actor.of(f.user(partner=partner)), ScheduleData(
            name=f"Restock {key}", cadence="monthly", start_date=START, lines=[(product.id, 6)]),
            today=date(2027, 1, 10))[0]
    factory = app.extensions["trellis.session_factory"]
    engine.generate_due(factory, START)
    db.get(Product, jam.id).active = False
    db.commit()
    engine.generate_due(factory, date(2027, 2, 28))
    return manager, mine, theirs, schedules


def client_for(app, user):
    client = app.test_client()
    sign_in(client, user)
    return client


def test_a_manager_sees_their_partners_runs_with_reasons_in_words(app, runs):
    manager, _mine, _theirs, schedules = runs
    page = client_for(app, manager).get("/manage/standing-runs").text
    assert "4 dates" in page
    assert "Restock placed" in page and "Restock failing" in page and "Restock theirs" not in page
    assert "none of its products is sold any more" in page and "Not ordered: Strawberry jam 280 g." in page
    assert 'aria-current="page"' in page and "Standing orders" in page  # in the staff menu


def test_filters_by_outcome_partner_and_day_stay_in_the_pager_and_the_export(app, runs):
    manager, mine, _theirs, _schedules = runs
    client = client_for(app, manager)
    failed = client.get("/manage/standing-runs?outcome=failed").text
    assert "1 date" in failed and "Restock placed" not in failed
    feb = client.get(f"/manage/standing-runs?partner={mine.id}&date_from=2027-02-01&date_to=2027-02-28").text
    assert "2 dates" in feb
    assert f"/manage/standing-runs/export.csv?partner={mine.id}&amp;date_from=2027-02-01" in feb
    bad = client.get("/manage/standing-runs?date_from=2027-03-01&date_to=2027-02-01&outcome=nonsense")
    assert bad.status_code == 200 and "4 dates" in bad.text  # invalid filters are ignored, said why
    assert "The end date is before the start date." in bad.text


def test_the_csv_export_streams_the_filtered_rows_safe_for_spreadsheets(app, runs):
    manager, _mine, _theirs, schedules = runs
    response = client_for(app, manager).get("/manage/standing-runs/export.csv?outcome=failed")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.is_streamed
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert len(rows) == 1
    [row] = rows
    assert row["partner_name"].startswith("'=HYPERLINK")  # formula injection neutralised
    assert (row["occurrence_date"], row["outcome"], row["reason_code"]) == ("2027-02-28", "failed", "nothing_orderable")
    assert row["reason"] == "none of its products is sold any more"
    assert row["not_ordered"] == "Strawberry jam 280 g" and row["standing_order_id"] == str(schedules["failing"].id)


def test_an_admin_sees_every_partners_runs_and_partner_users_none(app, f, runs):
    _manager, mine, _theirs, _schedules = runs
    assert "6 dates" in client_for(app, f.user(role="admin")).get("/manage/standing-runs").text
    buyer = client_for(app, f.user(partner=mine))
    assert buyer.get("/manage/standing-runs").status_code == 403
    assert buyer.get("/manage/standing-runs/export.csv").status_code == 403


def test_another_managers_partner_in_the_address_is_a_404_and_audited(app, db, runs):
    manager, _mine, theirs, _schedules = runs
    response = client_for(app, manager).get(f"/manage/standing-runs/export.csv?partner={theirs.id}")
    assert response.status_code == 404 and "Theirs" not in response.text
    assert db.scalars(select(AuditEvent.action).where(AuditEvent.action == "authz_denied")).all() == ["authz_denied"]


def test_the_list_pages_25_runs_at_a_time(app, f, db):
    admin = f.user(role="admin")
    water = f.product()
    actor = Actor.of(f.user())
    for _n in range(30):
        standing.create(db, actor, ScheduleData(name="", cadence="weekly", start_date=START,
                                                lines=[(water.id, 1)]), today=date(2027, 1, 10))
    engine.generate_due(app.extensions["trellis.session_factory"], START)
    client = client_for(app, admin)
    first, second = client.get("/manage/standing-runs").text, client.get("/manage/standing-runs?page=2").text
    assert "30 dates" in first and first.count("<tr>") == 26 and second.count("<tr>") == 6
