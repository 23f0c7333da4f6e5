"""The staff partner page: contact, orders and sales, top products, people; its settings, who may
change which, and the audit trail of every change."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.core.access import Actor
from portal.models import AuditEvent, Partner, Task
from portal.workspace import portfolio
from tests.portal.helpers import sign_in


def signed_in(app, user):
    client = app.test_client()
    assert sign_in(client, user).status_code == 302
    return client


@pytest.fixture
def shop(f, db):
    manager = f.user(role="account_manager", name="Maria Manager")
    tier = f.tier(name="Gold")
    partner = f.partner(name="Corner Shop", account_manager_id=manager.id, price_tier_id=tier.id,
                        contact_name="Anna Kowalska", contact_email="anna@corner.test",
                        contact_phone="+48 600 100 200", preferred_channel="phone", contact_every_days=14)
    owner = f.user(role="partner_admin", partner=partner, name="Olga Owner",
                   last_login_at=datetime(2026, 11, 30, 23, 30, tzinfo=UTC))
    return manager, tier, partner, owner


def test_the_partner_page_shows_contact_orders_sales_people_and_links(app, f, db, shop):
    manager, _tier, partner, owner = shop
    jam, tea = f.product(name="Strawberry jam", base_price=Decimal("5.00")), f.product(name="Green tea")
    now = datetime.now(UTC)
    f.order(partner, lines=[(jam, 10)], created_at=now - timedelta(days=2))
    f.order(partner, lines=[(tea, 1)], created_at=now - timedelta(days=3))
    f.order(partner, lines=[(tea, 50)], created_at=now - timedelta(days=1), status="cancelled")
    db.add(Task(partner_id=partner.id, assignee_id=manager.id, kind="phone", title="Call about the jam"))
    db.commit()
    page = signed_in(app, manager).get(f"/manage/partners/{partner.id}").text
    for text in ("Anna Kowalska", "mailto:anna@corner.test", "+48 600 100 200", "tel:+48600100200",
                 "Olga Owner", "Call about the jam", "No delivery addresses yet", "Strawberry jam"):
        assert text in page, text
    # the count says what it counts, agrees with the list it links to, and names what it leaves out
    assert "3 orders of any status" in page and "1 cancelled" in page
    assert f'href="/manage/orders?partner={partner.id}"' in page
    assert f"/manage/orders?partner={partner.id}&amp;status=cancelled" in page
    assert "Ordered, not counting cancelled orders: PLN\u00a060.00" in page
    assert f'href="/catalog?partner={partner.id}"' in page
    # last sign-in in the wholesaler's time (Warsaw: an hour ahead of UTC in winter)
    assert "Dec 1, 2026, 12:30\u202fAM" in page or "Dec 1, 2026, 12:30 AM" in page
    crumbs = page.split('class="breadcrumb"')[1].split("</nav>")[0]
    assert 'href="/manage/partners"' in crumbs and "Corner Shop" in crumbs
    # the list counts the same orders
    listing = signed_in(app, manager).get(f"/manage/orders?partner={partner.id}").text
    assert "3 orders of any status" in listing


def test_the_partner_page_lists_its_delivery_addresses_default_first(app, f, db, shop):
    from portal.models import DeliveryAddress

    manager, _tier, partner, _owner = shop
    db.add_all([DeliveryAddress(partner_id=partner.id, label="Warehouse", recipient="Corner Shop",
                                street="ul. Polna 3", postal_code="30-001", city="Kraków"),
                DeliveryAddress(partner_id=partner.id, label="Main shop", recipient="Corner Shop",
                                street="Rynek 1", postal_code="30-002", city="Kraków", is_default=True)])
    db.commit()
    page = signed_in(app, manager).get(f"/manage/partners/{partner.id}").text
    section = page.split('id="delivery-addresses"')[1].split("</section>")[0]
    assert section.index("Main shop") < section.index("Warehouse") and "default" in section
    assert "Rynek 1" in section and f'href="/manage/partners/{partner.id}/addresses"' in section
    assert "No delivery addresses yet" not in section


def test_without_a_contact_person_the_companys_administrator_is_shown_as_such(app, f):
    manager = f.user(role="account_manager")
    partner = f.partner(account_manager_id=manager.id)
    f.user(role="partner_admin", partner=partner, name="Piotr Admin")
    page = signed_in(app, manager).get(f"/manage/partners/{partner.id}").text
    assert "Piotr Admin" in page and "no contact person entered yet" in page


def test_sales_this_year_against_the_same_stretch_of_last_year_net_and_without_cancelled(db, f):
    partner = f.partner()
    product = f.product(base_price=Decimal("10.00"))
    now = datetime(2026, 6, 15, 12, tzinfo=UTC)
    f.order(partner, lines=[(product, 3)], created_at=datetime(2026, 2, 1, tzinfo=UTC))        # 30 this year
    f.order(partner, lines=[(product, 9)], created_at=datetime(2026, 3, 1, tzinfo=UTC), status="cancelled")
    f.order(partner, lines=[(product, 2)], created_at=datetime(2025, 6, 15, 11, tzinfo=UTC))   # 20 last year
    f.order(partner, lines=[(product, 5)], created_at=datetime(2025, 6, 15, 13, tzinfo=UTC))   # after the stretch
    f.order(partner, lines=[(product, 7)], created_at=datetime(2024, 12, 31, 23, tzinfo=UTC))  # the year before
    f.order(partner, lines=[(product, 4)], created_at=datetime(2026, 6, 16, tzinfo=UTC))       # not yet
    overview = portfolio.partner_overview(db, Actor.system(), partner.id, now=now)
    assert overview.revenue.this_year == Decimal("30.00")
    assert overview.revenue.last_year == Decimal("20.00")
    assert overview.revenue.change == Decimal("0.5")


def test_top_products_are_the_last_12_months_by_net_sales(db, f):
    partner = f.partner()
    cheap, dear, old = (f.product(name="Cheap", base_price=Decimal("1.00")),
                        f.product(name="Dear", base_price=Decimal("50.00")), f.product(name="Old"))
    now = datetime(2026, 6, 15, tzinfo=UTC)
    f.order(partner, lines=[(cheap, 40), (dear, 1)], created_at=now - timedelta(days=10))
    f.order(partner, lines=[(cheap, 1)], created_at=now - timedelta(days=20), status="cancelled")
    f.order(partner, lines=[(old, 99)], created_at=now - timedelta(days=400))
    top = portfolio.partner_overview(db, Actor.system(), partner.id, now=now).top_products
    assert [(p.name, p.quantity, p.revenue) for p in top] == [("Dear", 1, Decimal("50.00")),
                                                              ("Cheap", 40, Decimal("40.00"))]


def test_an_admin_edits_tier_manager_channel_and_contact_and_each_change_is_audited(app, f, db, shop):
    manager, gold, partner, _owner = shop
    admin = f.user(role="admin")
    silver = f.tier(name="Silver")
    other = f.user(role="account_manager", name="Otto Other")
    client = signed_in(app, admin)
    page = client.get(f"/manage/partners/{partner.id}").text
    assert 'name="tier"' in page and 'name="manager"' in page
    response = client.post(f"/manage/partners/{partner.id}/edit", data={
        "tier": silver.id, "manager": other.id, "preferred_channel": "visit", "contact_every_days": "30",
        "contact_name": "Anna Kowalska", "contact_email": "Anna@Corner.test ", "contact_phone": "+48 600 100 200"})
    assert response.status_code == 302
    db.expire_all()
    stored = db.get(Partner, partner.id)
    assert (stored.price_tier_id, stored.account_manager_id, stored.preferred_channel, stored.contact_every_days) \
        == (silver.id, other.id, "visit", 30)
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "partner_updated")).all()
    assert event.actor_id == admin.id and event.partner_id == partner.id
    assert event.detail["changes"] == {
        "price_tier_id": {"before": "Gold", "after": "Silver"},
        "account_manager_id": {"before": manager.email, "after": other.email},
        "preferred_channel": {"before": "phone", "after": "visit"},
        "contact_every_days": {"before": 14, "after": 30},
    }  # the email only differed in case and spaces: not a change
    assert "Saved:" in client.get(response.headers["Location"]).text
    # the same values again change nothing and write nothing
    client.post(f"/manage/partners/{partner.id}/edit", data={
        "tier": silver.id, "manager": other.id, "preferred_channel": "visit", "contact_every_days": "30",
        "contact_name": "Anna Kowalska", "contact_email": "anna@corner.test", "contact_phone": "+48 600 100 200"})
    assert len(db.scalars(select(AuditEvent).where(AuditEvent.action == "partner_updated")).all()) == 1


def test_a_manager_edits_channel_frequency_and_contact_but_not_tier_or_manager(app, f, db, shop):
    manager, gold, partner, _owner = shop
    silver = f.tier(name="Silver")
    client = signed_in(app, manager)
    page = client.get(f"/manage/partners/{partner.id}").text
    assert 'name="preferred_channel"' in page and 'name="tier"' not in page and 'name="manager"' not in page
    response = client.post(f"/manage/partners/{partner.id}/edit", data={
        "tier": silver.id, "manager": f.user(role="account_manager").id,  # not offered: ignored
        "preferred_channel": "email", "contact_every_days": "", "contact_name": "Jan Nowak",
        "contact_email": "jan@corner.test", "contact_phone": "600 100 300"})
    assert response.status_code == 302
    db.expire_all()
    stored = db.get(Partner, partner.id)
    assert stored.price_tier_id == gold.id and stored.account_manager_id == manager.id
    assert (stored.preferred_channel, stored.contact_every_days, stored.contact_name) == ("email", None, "Jan Nowak")
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "partner_updated")).all()
    assert set(event.detail["changes"]) == {"preferred_channel", "contact_every_days", "contact_name",
                                            "contact_email", "contact_phone"}
    assert event.detail["changes"]["contact_name"] == {"before": "Anna Kowalska", "after": "Jan Nowak"}


def test_the_use_case_refuses_a_manager_changing_the_tier(db, f, shop):
    from portal.workspace import partner_settings

    manager, _gold, partner, _owner = shop
    with pytest.raises(partner_settings.NotAllowed):
        partner_settings.update_partner(db, Actor.of(manager), partner.id, {"price_tier_id": None})


@pytest.mark.parametrize(("field", "value"), [
    ("contact_every_days", "0"), ("contact_every_days", "366"), ("contact_every_days", "often"),
    ("preferred_channel", "pigeon"), ("contact_email", "not an email"), ("contact_phone", "call me maybe"),
    ("contact_name", "x" * 201), ("tier", "999999"), ("manager", "abc"),
])
def test_bad_settings_answer_422_with_the_error_and_change_nothing(app, f, db, shop, field, value):
    _manager, gold, partner, _owner = shop
    admin = f.user(role="admin")
    data = {"tier": gold.id, "manager": partner.account_manager_id, "preferred_channel": "phone",
            "contact_every_days": "14", "contact_name": "Anna Kowalska", "contact_email": "anna@corner.test",
            "contact_phone": "+48 600 100 200", field: value}
    response = signed_in(app, admin).post(f"/manage/partners/{partner.id}/edit", data=data)
    assert response.status_code == 422
    assert 'class="field-error"' in response.text
    assert db.scalars(select(AuditEvent).where(AuditEvent.action == "partner_updated")).all() == []


def test_the_manager_choice_offers_only_active_account_managers(app, f, shop):
    _manager, _gold, partner, _owner = shop
    f.user(role="account_manager", name="Gone Manager", active=False)
    f.user(role="admin", name="Another Admin")
    page = signed_in(app, f.user(role="admin")).get(f"/manage/partners/{partner.id}").text
    choices = page.split('name="manager"')[1].split("</select>")[0]
    assert "Maria Manager" in choices and "Gone Manager" not in choices and "Another Admin" not in choices


def test_another_managers_partner_cannot_be_edited(app, f, db, shop):
    _manager, _gold, partner, _owner = shop
    intruder = f.user(role="account_manager")
    response = signed_in(app, intruder).post(f"/manage/partners/{partner.id}/edit",
                                             data={"preferred_channel": "none"})
    assert response.status_code == 404
    db.expire_all()
    assert db.get(Partner, partner.id).preferred_channel == "phone"


def test_the_partner_list_names_its_company_column_as_companies_in_both_languages(app, f):
    manager = f.user(role="account_manager", locale="pl")
    f.partner(name="Corner Shop", account_manager_id=manager.id)
    page = signed_in(app, manager).get("/manage/partners").text
    assert "<th>Nazwa firmy</th>" in page and "Imię i nazwisko" not in page
    assert 'class="compact stack"' in page and 'data-label="Nazwa firmy"' in page
    admin_page = signed_in(app, f.user(role="admin")).get("/manage/partners").text
    assert "<th>Company</th>" in admin_page and "<th>Account manager</th>" in admin_page
