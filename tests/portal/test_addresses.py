"""Delivery addresses: partner admins manage their company's, staff those of their partners."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.models import AuditEvent, DeliveryAddress
from tests.portal.helpers import sign_in

FORM = {"label": "Main shop", "recipient": "Lakeside Grocers", "street": "ul. Długa 5", "street2": "",
        "postal_code": "80-831", "city": "Gdańsk", "country": "pl", "phone": "+48 58 123 45 67"}


def addresses(db, partner_id):
    db.expire_all()
    return db.scalars(select(DeliveryAddress).where(DeliveryAddress.partner_id == partner_id)
                      .order_by(DeliveryAddress.id)).all()


@pytest.fixture
def owner(app, f):
    user = f.user(role="partner_admin")
    client = app.test_client()
    sign_in(client, user)
    return client, user


def test_a_partner_admin_adds_edits_sets_the_default_and_removes_addresses(app, db, owner):
    client, user = owner
    empty = client.get("/company/addresses").text
    assert "No delivery address yet" in empty and 'href="/company/addresses/new"' in empty
    assert client.post("/company/addresses/new", data=FORM).headers["Location"] == "/company/addresses"
    client.post("/company/addresses/new", data={**FORM, "label": "Warehouse", "street": "Portowa 7"})
    first, second = addresses(db, user.partner_id)
    assert (first.country, first.is_default, second.is_default) == ("PL", True, False)  # the first is default
    page = client.get("/company/addresses").text
    assert "ul. Długa 5" in page and "Portowa 7" in page
    assert 'aria-label="Make Warehouse the default address"' in page and 'aria-label="Edit Main shop"' in page
    client.post(f"/company/addresses/{second.id}/default")
    assert [a.is_default for a in addresses(db, user.partner_id)] == [False, True]
    edited = client.post(f"/company/addresses/{first.id}/edit", data={**FORM, "city": "Sopot", "postal_code": "81-701"})
    assert edited.status_code == 302 and addresses(db, user.partner_id)[0].city == "Sopot"
    # Removing asks first: a page that works without JavaScript, then the POST.
    asked = client.get(f"/company/addresses/{second.id}/remove")
    assert asked.status_code == 200 and "Remove the address “Warehouse”?" in asked.text
    assert len(addresses(db, user.partner_id)) == 2
    client.post(f"/company/addresses/{second.id}/remove")
    [left] = addresses(db, user.partner_id)
    assert left.id == first.id and left.is_default  # the default moved to the one left
    actions = db.scalars(select(AuditEvent.action).where(AuditEvent.action.like("address_%"))).all()
    assert sorted(actions) == sorted(["address_created", "address_created", "address_default_set",
                                      "address_updated", "address_removed"])


@pytest.mark.parametrize(("field", "value", "message"), [
    ("postal_code", "80831", "A Polish postal code looks like 00-950."),
    ("country", "Poland", "Enter the country as a two-letter code"),
    ("label", "", "This field is required."),
    ("phone", "call me", "A phone number has digits"),
    ("street", "Długa\x0b5", "not allowed"),
])
def test_a_wrong_address_is_refused_with_a_422_and_the_form_keeps_what_was_typed(app, db, owner, field, value,
                                                                                message):
    client, user = owner
    response = client.post("/company/addresses/new", data={**FORM, field: value})
    assert response.status_code == 422 and message in response.text
    assert 'value="Lakeside Grocers"' in response.text
    assert addresses(db, user.partner_id) == []


def test_a_foreign_postal_code_is_free_form(app, db, owner):
    client, user = owner
    client.post("/company/addresses/new", data={**FORM, "country": "DE", "postal_code": "10115", "city": "Berlin"})
    assert addresses(db, user.partner_id)[0].postal_code == "10115"


def test_one_default_per_partner_whatever_the_order_of_changes(app, db, owner):
    client, user = owner
    for label in ("A", "B", "C"):
        client.post("/company/addresses/new", data={**FORM, "label": label, "make_default": "y"})
    rows = addresses(db, user.partner_id)
    assert [a.is_default for a in rows] == [False, False, True]
    client.post(f"/company/addresses/{rows[0].id}/edit", data={**FORM, "label": "A", "make_default": "y"})
    assert [a.is_default for a in addresses(db, user.partner_id)] == [True, False, False]


def test_buyers_use_addresses_but_cannot_manage_them(app, f, db):
    buyer = f.user()
    client = app.test_client()
    sign_in(client, buyer)
    assert client.get("/company/addresses").status_code == 403
    assert client.post("/company/addresses/new", data=FORM).status_code == 403
    assert addresses(db, buyer.partner_id) == []


def test_staff_manage_the_addresses_of_partners_they_look_after(app, f, db):
    manager = f.user(role="account_manager")
    mine = f.partner(name="Lakeside", account_manager_id=manager.id)
    client = app.test_client()
    sign_in(client, manager)
    page = client.get(f"/manage/partners/{mine.id}/addresses").text
    assert "Delivery addresses of Lakeside" in page and f'href="/manage/partners/{mine.id}"' in page  # crumbs
    response = client.post(f"/manage/partners/{mine.id}/addresses/new", data=FORM)
    assert response.headers["Location"] == f"/manage/partners/{mine.id}/addresses"
    [made] = addresses(db, mine.id)
    client.post(f"/manage/partners/{mine.id}/addresses/{made.id}/edit", data={**FORM, "label": "Shop"})
    assert addresses(db, mine.id)[0].label == "Shop"
    assert client.get(f"/manage/partners/{mine.id}/addresses/{made.id}/remove").status_code == 200
    client.post(f"/manage/partners/{mine.id}/addresses/{made.id}/remove")
    assert addresses(db, mine.id) == []
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "address_removed"))
    assert event.actor_id == manager.id and event.partner_id == mine.id


def test_an_admin_manages_any_partners_addresses_and_partner_users_cannot_use_the_staff_pages(app, f, db):
    admin = f.user(role="admin")
    partner = f.partner()
    owner = f.user(role="partner_admin", partner=partner)
    client = app.test_client()
    sign_in(client, admin)
    assert client.post(f"/manage/partners/{partner.id}/addresses/new", data=FORM).status_code == 302
    other = app.test_client()
    sign_in(other, owner)
    assert other.get(f"/manage/partners/{partner.id}/addresses").status_code == 403
    assert db.scalar(select(func.count(DeliveryAddress.id))) == 1


def test_staff_cannot_use_the_company_pages(app, f):
    client = app.test_client()
    sign_in(client, f.user(role="admin"))
    assert client.get("/company/addresses").status_code == 403
