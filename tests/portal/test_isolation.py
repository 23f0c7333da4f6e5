"""A partner never reaches another partner's orders: every page and API route answers 404."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.models import (
    AuditEvent,
    CartLine,
    DeliveryAddress,
    ForecastAdjustment,
    Order,
    RecurringDraft,
    RecurringRun,
    RecurringSkip,
    Task,
)
from tests.portal.helpers import bearer, issue, sign_in

# Every route with an order id, for the partner side (pages and API).
ORDER_ROUTES = [
    ("GET", "/orders/{id}"),
    ("GET", "/orders/{id}/thank-you"),
    ("GET", "/orders/{id}/cancel"),
    ("POST", "/orders/{id}/cancel"),
    ("POST", "/orders/{id}/reorder"),
    ("GET", "/api/v1/orders/{id}"),
    ("POST", "/api/v1/orders/{id}/cancel"),
    ("POST", "/api/v1/orders/{id}/reorder"),
]
# Routes with an id argument that belong to other tests' tables (staff pages, people, invitations).
# Every staff route with an id, for a manager reaching into another manager's portfolio.
MANAGER_ROUTES = [
    ("GET", "/manage/partners/{partner}"),
    ("POST", "/manage/partners/{partner}/edit"),
    ("GET", "/manage/orders/{order}"),
    ("POST", "/manage/orders/{order}/confirm"),
    ("GET", "/manage/tasks/{task}/done"),
    ("GET", "/manage/orders/{order}/cancel"),
    ("POST", "/manage/orders/{order}/cancel"),
    ("POST", "/manage/tasks/{task}/done"),
    # a partner chosen in the address bar: another manager's is a 404 too, never their rows
    ("GET", "/manage/orders?partner={partner}"),
    ("GET", "/manage/orders?partner={partner}&status=submitted&sort=total&page=2"),
    ("GET", "/manage/orders/export.csv?partner={partner}"),
    ("GET", "/manage/standing-runs?partner={partner}"),
    ("GET", "/manage/standing-runs?partner={partner}&outcome=failed&date_from=2027-01-01&page=2"),
    ("GET", "/manage/standing-runs/export.csv?partner={partner}"),
    ("GET", "/catalog?partner={partner}"),
    ("GET", "/manage/partners/{partner}/addresses"),
    ("GET", "/manage/partners/{partner}/addresses/new"),
    ("POST", "/manage/partners/{partner}/addresses/new"),
    ("GET", "/manage/partners/{partner}/addresses/{address}/edit"),
    ("POST", "/manage/partners/{partner}/addresses/{address}/edit"),
    ("POST", "/manage/partners/{partner}/addresses/{address}/default"),
    ("GET", "/manage/partners/{partner}/addresses/{address}/remove"),
    ("POST", "/manage/partners/{partner}/addresses/{address}/remove"),
    # forecasts (workspace/forecast_views.py, forecast_api.py)
    ("POST", "/manage/partners/{partner}/forecast/adjustments"),
    ("GET", "/manage/partners/{partner}/forecast/adjustments/{adjustment}/clear"),
    ("POST", "/manage/partners/{partner}/forecast/adjustments/{adjustment}/clear"),
    ("POST", "/manage/partners/{partner}/stage"),
    ("POST", "/manage/partners/{partner}/interactions"),
]
# Every partner-admin route with a delivery address id: another company's address is not found.
ADDRESS_ROUTES = [
    ("GET", "/company/addresses/{id}/edit"),
    ("POST", "/company/addresses/{id}/edit"),
    ("POST", "/company/addresses/{id}/default"),
    ("GET", "/company/addresses/{id}/remove"),
    ("POST", "/company/addresses/{id}/remove"),
]
# Every route with a review draft of a standing order (pages and API): another partner's standing
# order or draft is not found, unchanged, and the attempt audited.
DRAFT_ROUTES = [
    ("GET", "/standing-orders/{schedule}/drafts/{draft}"),
    ("POST", "/standing-orders/{schedule}/drafts/{draft}"),
    ("GET", "/standing-orders/{schedule}/drafts/{draft}/confirm"),
    ("POST", "/standing-orders/{schedule}/drafts/{draft}/confirm"),
    ("GET", "/api/v1/recurring-orders/{schedule}/drafts"),
    ("GET", "/api/v1/recurring-orders/{schedule}/drafts/{draft}"),
    ("PATCH", "/api/v1/recurring-orders/{schedule}/drafts/{draft}"),
    ("POST", "/api/v1/recurring-orders/{schedule}/drafts/{draft}/confirm"),
    ("POST", "/api/v1/recurring-orders/{schedule}/drafts/{draft}/skip"),
]
COVERED_ELSEWHERE = {
    "/company/users/<int:user_id>/deactivate",
    "/company/users/<int:user_id>/activate", "/admin/users/<int:user_id>/deactivate",
    "/admin/users/<int:user_id>/activate", "/invitations/<token>",
    "/reset-password/<token>",  # a token, no partner: test_password_reset.py
    "/company/invitations/<int:invitation_id>/revoke",  # test_people.py
    "/admin/partners/<int:partner_id>/status",  # admin only: test_partner_status.py
    "/cart/<int:product_id>/quantity", "/cart/<int:product_id>/remove",
    "/static/<path:filename>",
    # staff-only: test_notifications.py (tasks) and test_catalog_admin.py (admin pages)
    "/admin/catalog/products/<int:product_id>",
    "/admin/catalog/products/<int:product_id>/deactivate",
    "/admin/catalog/products/<int:product_id>/reactivate", "/admin/catalog/tiers/<int:tier_id>",
    "/admin/catalog/tiers/<int:tier_id>/prices",
    "/admin/catalog/tiers/<int:tier_id>/prices/<int:product_id>/remove",
    # standing orders: every one of their routes, in test_recurring_pages.py (ROUTES)
    "/standing-orders/<int:schedule_id>", "/standing-orders/<int:schedule_id>/edit",
    "/standing-orders/<int:schedule_id>/pause", "/standing-orders/<int:schedule_id>/resume",
    "/standing-orders/<int:schedule_id>/skip", "/standing-orders/<int:schedule_id>/cancel",
    # review drafts (pages and API): DRAFT_ROUTES below
    # and their API, in test_recurring_api.py
    "/api/v1/recurring-orders/<int:schedule_id>", "/api/v1/recurring-orders/<int:schedule_id>/pause",
    "/api/v1/recurring-orders/<int:schedule_id>/resume", "/api/v1/recurring-orders/<int:schedule_id>/skip",
    "/api/v1/recurring-orders/<int:schedule_id>/runs",
    # the public referral form behind a partner's link (a code, no sign-in): test_referrals.py
    "/r/<code>", "/r/<code>/thanks",
    # staff-only referral pipeline, manager-scoped: test_referral_pipeline.py
    "/manage/referrals/<int:referral_id>", "/manage/referrals/<int:referral_id>/status",
    "/manage/referrals/<int:referral_id>/notes", "/manage/referrals/<int:referral_id>/assign",
    "/api/v1/referrals/<int:referral_id>", "/api/v1/referrals/<int:referral_id>/convert",  # test_referrals_api.py
    "/manage/referrals/<int:referral_id>/convert",  # test_referral_conversion.py
    # the forecasts API (JSON errors): another manager's partner is 404 and audited in test_forecast_api.py
    "/api/v1/partners/<int:partner_id>/forecast", "/api/v1/partners/<int:partner_id>/forecast/adjustments",
    # staff partner API: test_relationship_api.py (another manager's partner: 404)
    "/api/v1/partners/<int:partner_id>",
}


@pytest.fixture
def two_partners(app, f):
    mine, theirs = f.partner(name="Mine"), f.partner(name="Theirs")
    me = f.user(partner=mine)
    product = f.product()
    their_order = f.order(theirs, lines=[(product, 7)])
    return me, their_order


def signed_in_for(app, user, route):
    """A client signed in the way ``route`` expects: a bearer token for the API, else a cookie."""
    client = app.test_client()
    headers = {"Idempotency-Key": "x"}
    if route.startswith("/api/"):
        headers.update(bearer(issue(client, user)))
    else:
        sign_in(client, user)
    return client, headers


@pytest.mark.parametrize(("method", "route"), ORDER_ROUTES)
def test_another_partners_order_is_not_found_and_unchanged(app, f, db, two_partners, method, route):
    me, their_order = two_partners
    client, headers = signed_in_for(app, me, route)
    response = client.open(route.format(id=their_order.id), method=method, headers=headers)
    assert response.status_code == 404
    db.expire_all()
    assert db.get(Order, their_order.id).status == "submitted"
    assert db.scalar(select(func.count(Order.id))) == 1
    assert db.scalar(select(func.count(CartLine.id))) == 0


def test_every_id_route_is_in_an_isolation_table(app):
    listed = {route.replace("{id}", "<int:order_id>") for _m, route in ORDER_ROUTES}
    listed |= {route.replace("{id}", "<int:address_id>") for _m, route in ADDRESS_ROUTES}
    listed |= {route.replace("{partner}", "<int:partner_id>").replace("{order}", "<int:order_id>")
               .replace("{task}", "<int:task_id>").replace("{address}", "<int:address_id>")
               .replace("{adjustment}", "<int:adjustment_id>")
               .replace("/confirm", "/<action>")
               for _m, route in MANAGER_ROUTES}
    listed |= {route.replace("{schedule}", "<int:schedule_id>").replace("{draft}", "<int:draft_id>")
               for _m, route in DRAFT_ROUTES}
    for rule in app.url_map.iter_rules():
        if rule.arguments and rule.rule not in listed and rule.rule not in COVERED_ELSEWHERE:
            pytest.fail(f"{rule.rule} takes an id but no cross-partner test covers it")


def test_lists_and_exports_show_only_own_orders(app, f, two_partners):
    me, their_order = two_partners
    client = app.test_client()
    sign_in(client, me)
    assert "0 orders" in client.get("/orders").text
    assert "0 orders" in client.get(f"/orders?partner_id={their_order.partner_id}").text
    api = app.test_client()
    headers = bearer(issue(api, me))
    assert api.get("/api/v1/orders", headers=headers).json["total"] == 0
    export = client.get("/orders/export.csv").text
    assert f"{their_order.id}," not in export


def test_cross_partner_attempt_leaves_an_audit_trail_of_nothing_changed(app, f, db, two_partners):
    me, their_order = two_partners
    client = app.test_client()
    sign_in(client, me)
    client.post(f"/orders/{their_order.id}/cancel")
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "order_cancelled")) is None


@pytest.mark.parametrize(("method", "route"), ORDER_ROUTES)
def test_reaching_for_another_partners_order_is_audited_and_a_missing_one_is_not(
        app, f, db, two_partners, method, route):
    """Answered exactly like a missing order, but recorded (like a 403): who, where, no body."""
    me, their_order = two_partners
    client, headers = signed_in_for(app, me, route)
    missing = client.open(route.format(id=their_order.id + 1000), method=method, headers=headers,
                          json={"secret": "in the body"} if method == "POST" else None)
    assert missing.status_code == 404
    assert db.scalars(select(AuditEvent).where(AuditEvent.action == "authz_denied")).all() == []
    foreign = client.open(route.format(id=their_order.id), method=method, headers=headers,
                          json={"secret": "in the body"} if method == "POST" else None)
    assert foreign.status_code == 404  # and nothing tells the two apart:
    if route.startswith("/api/"):
        assert foreign.json == missing.json
    else:
        assert "This page does not exist." in foreign.text and "This page does not exist." in missing.text
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "authz_denied")).all()
    assert event.actor_id == me.id and event.detail == {"path": route.format(id=their_order.id),
                                                        "status": 404}


def test_a_manager_reaching_for_an_unassigned_partner_is_audited(app, f, db):
    manager = f.user(role="account_manager")
    theirs = f.partner(account_manager_id=f.user(role="account_manager").id)
    client = app.test_client()
    sign_in(client, manager)
    assert client.get(f"/manage/partners/{theirs.id}").status_code == 404
    assert client.get(f"/manage/partners/{theirs.id + 1000}").status_code == 404
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "authz_denied")).all()
    assert event.actor_id == manager.id and event.detail["path"] == f"/manage/partners/{theirs.id}"


@pytest.fixture
def two_managers(f, db):
    """A manager, and another manager's partner with an order and an open task."""
    me = f.user(role="account_manager")
    theirs = f.partner(name="Theirs", account_manager_id=f.user(role="account_manager").id)
    order = f.order(theirs, lines=[(f.product(), 3)])
    task = Task(partner_id=theirs.id, assignee_id=theirs.account_manager_id, kind="phone", title="Call them")
    address = DeliveryAddress(partner_id=theirs.id, label="Their shop", recipient="Theirs", street="Rynek 1",
                              postal_code="00-950", city="Warszawa", is_default=True)
    adjustment = ForecastAdjustment(partner_id=theirs.id, amount=Decimal("100.00"), note="Their note")
    db.add_all([task, address, adjustment])
    db.commit()
    return me, {"partner": theirs.id, "order": order.id, "task": task.id, "address": address.id,
                "adjustment": adjustment.id}


@pytest.mark.parametrize(("method", "route"), MANAGER_ROUTES)
def test_another_managers_rows_are_not_found_unchanged_and_audited(app, db, two_managers, method, route):
    me, ids = two_managers
    client = app.test_client()
    sign_in(client, me)
    missing = client.open(route.format(**{k: v + 1000 for k, v in ids.items()}), method=method)
    assert missing.status_code == 404
    assert db.scalars(select(AuditEvent).where(AuditEvent.action == "authz_denied")).all() == []
    foreign = client.open(route.format(**ids), method=method)
    assert foreign.status_code == 404
    assert "This page does not exist." in foreign.text and "This page does not exist." in missing.text
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "authz_denied")).all()
    assert event.actor_id == me.id and event.detail["path"] == route.format(**ids).split("?")[0]
    assert event.ip == "127.0.0.1"
    db.expire_all()
    assert db.get(Order, ids["order"]).status == "submitted"
    assert db.get(Task, ids["task"]).status == "open"
    address = db.get(DeliveryAddress, ids["address"])
    assert (address.label, address.is_default) == ("Their shop", True)
    assert db.scalar(select(func.count(DeliveryAddress.id))) == 1
    assert db.scalar(select(func.count(ForecastAdjustment.id))) == 1
    assert db.scalar(select(ForecastAdjustment.cleared_at)) is None


def test_every_audit_event_of_a_request_records_the_client_address(app, db, f):
    """Sign-in, order, cancel, sign-out: each event written while serving carries the address."""
    buyer = f.user()
    product = f.product()
    client = app.test_client()
    sign_in(client, buyer)
    client.post("/cart/add", data={"product_id": product.id, "quantity": 2},
                environ_base={"REMOTE_ADDR": "203.0.113.9"})
    client.post("/checkout", data={"idempotency_key": "k-1"}, environ_base={"REMOTE_ADDR": "203.0.113.9"})
    order = db.scalar(select(Order))
    client.post(f"/orders/{order.id}/cancel", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    client.post("/logout", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    events = db.scalars(select(AuditEvent).where(AuditEvent.action != "login")).all()  # signed in from 127.0.0.1
    assert {e.action for e in events} >= {"order_placed", "order_cancelled"}
    assert {(e.action, e.ip) for e in events} == {(e.action, "203.0.113.9") for e in events}


def test_a_partner_admin_reaching_for_another_companys_user_or_invitation_is_audited(app, f, db):
    from portal.models import Invitation, User

    me = f.user(role="partner_admin")
    their_owner = f.user(role="partner_admin")
    their_buyer = f.user(partner=their_owner.partner)
    invitation = Invitation(partner_id=their_owner.partner_id, email="x@their.test", token_hash="c" * 64,
                            invited_by_id=their_owner.id,
                            expires_at=their_owner.created_at.replace(year=their_owner.created_at.year + 1))
    db.add(invitation)
    db.commit()
    client = app.test_client()
    sign_in(client, me)
    paths = [f"/company/users/{their_buyer.id}/deactivate", f"/company/invitations/{invitation.id}/revoke"]
    # The confirmation pages (GET) check first too: nothing about the other company is shown.
    assert [client.get(path).status_code for path in paths] == [404, 404]
    assert [client.post(path).status_code for path in paths] == [404, 404]
    assert client.post(f"/company/users/{their_buyer.id + 1000}/deactivate").status_code == 404
    assert client.get(f"/company/users/{their_buyer.id + 1000}/deactivate").status_code == 404
    events = db.scalars(select(AuditEvent).where(AuditEvent.action == "authz_denied")).all()
    assert sorted(e.detail["path"] for e in events) == sorted(paths * 2)
    db.expire_all()
    assert db.get(User, their_buyer.id).active and db.get(Invitation, invitation.id).revoked_at is None


@pytest.fixture
def their_address(f, db):
    """A partner admin, and another company's delivery address."""
    me = f.user(role="partner_admin")
    theirs = f.partner(name="Theirs")
    address = DeliveryAddress(partner_id=theirs.id, label="Their shop", recipient="Theirs", street="Rynek 1",
                              postal_code="00-950", city="Warszawa", is_default=True)
    db.add(address)
    db.commit()
    return me, address.id


@pytest.mark.parametrize(("method", "route"), ADDRESS_ROUTES)
def test_another_companys_address_is_not_found_unchanged_and_audited(app, db, their_address, method, route):
    me, address_id = their_address
    client = app.test_client()
    sign_in(client, me)
    data = {"label": "Mine now", "recipient": "Me", "street": "Polna 2", "postal_code": "00-001",
            "city": "Kraków", "country": "PL"}
    missing = client.open(route.format(id=address_id + 1000), method=method, data=data)
    assert missing.status_code == 404
    assert db.scalars(select(AuditEvent).where(AuditEvent.action == "authz_denied")).all() == []
    foreign = client.open(route.format(id=address_id), method=method, data=data)
    assert foreign.status_code == 404 and "This page does not exist." in foreign.text
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "authz_denied")).all()
    assert event.actor_id == me.id and event.detail["path"] == route.format(id=address_id)
    db.expire_all()
    address = db.get(DeliveryAddress, address_id)
    assert (address.label, address.is_default) == ("Their shop", True)


def test_a_manager_cannot_reach_another_partners_address_through_their_own_partner(app, f, db, two_managers):
    """/manage/partners/<mine>/addresses/<theirs>: the address must belong to the partner in the URL."""
    me, ids = two_managers
    mine = f.partner(account_manager_id=me.id)
    client = app.test_client()
    sign_in(client, me)
    path = f"/manage/partners/{mine.id}/addresses/{ids['address']}/edit"
    assert client.get(path).status_code == 404
    assert client.post(f"/manage/partners/{mine.id}/addresses/{ids['address']}/remove").status_code == 404
    events = db.scalars(select(AuditEvent).where(AuditEvent.action == "authz_denied")).all()
    assert [e.detail["path"] for e in events] == [path, f"/manage/partners/{mine.id}/addresses/{ids['address']}/remove"]
    assert db.get(DeliveryAddress, ids["address"]) is not None


@pytest.fixture
def their_draft(f, db):
    """A partner user, and another partner's review-mode standing order with a draft to review."""
    from portal.core.access import Actor
    from portal.recurring import standing
    from portal.recurring.standing import ScheduleData

    me, theirs = f.user(), f.user()
    water = f.product(sku="ISO-001")
    day = date.today() + timedelta(days=2)
    schedule = standing.create(db, Actor.of(theirs), ScheduleData(
        name="Theirs", cadence="monthly", start_date=day, mode="review", lines=[(water.id, 5)]),
        today=date.today())[0]
    draft = RecurringDraft(recurring_order_id=schedule.id, partner_id=theirs.partner_id, occurrence_date=day,
                           lines=[{"product_id": water.id, "quantity": 5}])
    db.add(draft)
    db.commit()
    return me, {"schedule": schedule.id, "draft": draft.id}


def _draft_unchanged(db, ids):
    db.expire_all()
    draft = db.get(RecurringDraft, ids["draft"])
    assert (draft.version, draft.changed_at, draft.lines[0]["quantity"]) == (1, None, 5)
    assert db.scalar(select(func.count(Order.id))) == 0
    assert db.scalar(select(func.count(RecurringSkip.id))) == 0
    assert db.scalar(select(func.count(RecurringRun.id))) == 0


def _open(client, method, path, headers):
    if path.startswith("/api/"):
        body = {"lines": [{"sku": "ISO-001", "quantity": 1}], "version": 1} if method == "PATCH" else {}
        return client.open(path, method=method, headers=headers, json=body if method != "GET" else None)
    return client.open(path, method=method, data={"lines": "ISO-001 1", "version": "1"})


@pytest.mark.parametrize(("method", "route"), DRAFT_ROUTES)
def test_another_partners_draft_is_not_found_unchanged_and_audited(app, db, their_draft, method, route):
    me, ids = their_draft
    client, headers = signed_in_for(app, me, route)
    missing = _open(client, method, route.format(**{k: v + 1000 for k, v in ids.items()}), headers)
    assert missing.status_code == 404
    assert db.scalars(select(AuditEvent).where(AuditEvent.action == "authz_denied")).all() == []
    foreign = _open(client, method, route.format(**ids), headers)
    assert foreign.status_code == 404
    if route.startswith("/api/"):
        assert foreign.json == missing.json
    else:
        assert "This page does not exist." in foreign.text and "This page does not exist." in missing.text
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "authz_denied")).all()
    assert event.actor_id == me.id and event.detail["path"] == route.format(**ids)
    _draft_unchanged(db, ids)


@pytest.mark.parametrize(("method", "route"), [r for r in DRAFT_ROUTES if "{draft}" in r[1]])
def test_another_partners_draft_under_ones_own_standing_order_is_not_found_too(
        app, f, db, their_draft, method, route):
    """/standing-orders/<mine>/drafts/<theirs>: the draft must belong to the standing order in the URL."""
    from portal.core.access import Actor
    from portal.recurring import standing
    from portal.recurring.standing import ScheduleData

    me, ids = their_draft
    mine = standing.create(db, Actor.of(me), ScheduleData(
        name="Mine", cadence="weekly", start_date=date.today() + timedelta(days=1), mode="review",
        lines=[(f.product().id, 1)]), today=date.today())[0]
    client, headers = signed_in_for(app, me, route)
    path = route.format(schedule=mine.id, draft=ids["draft"])
    assert _open(client, method, path, headers).status_code == 404
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "authz_denied")).all()
    assert event.detail["path"] == path
    _draft_unchanged(db, ids)
