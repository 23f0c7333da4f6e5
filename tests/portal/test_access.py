"""Who may open which page: the role matrix, and partner scoping."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.models import AuditEvent
from tests.portal.helpers import sign_in

ROLES = ("anonymous", "buyer", "partner_admin", "account_manager", "admin")
# page -> roles allowed (others: anonymous is sent to sign in, signed-in users get 403)
PAGES = {
    "/dashboard": {"buyer", "partner_admin", "account_manager", "admin"},
    "/account": {"buyer", "partner_admin", "account_manager", "admin"},
    "/company/users": {"partner_admin"},
    "/company/addresses": {"partner_admin"},
    "/company/addresses/new": {"partner_admin"},
    "/manage/partners": {"account_manager", "admin"},
    "/admin/users": {"admin"},
    "/admin/partners/new": {"admin"},
    "/checkout": {"buyer", "partner_admin"},
    "/catalog": {"buyer", "partner_admin", "account_manager", "admin"},  # staff: read-only
    "/cart": {"buyer", "partner_admin"},
    "/orders": {"buyer", "partner_admin"},
    "/orders/export.csv": {"buyer", "partner_admin"},
    "/manage/orders": {"account_manager", "admin"},
    "/manage/orders/export.csv": {"account_manager", "admin"},
    "/manage/tasks": {"account_manager", "admin"},
    "/manage/tasks/new": {"account_manager", "admin"},
    "/manage/forecasts": {"account_manager", "admin"},
    "/admin/catalog/products": {"admin"},
    "/admin/catalog/products/new": {"admin"},
    "/admin/catalog/products/import": {"admin"},
    "/admin/catalog/tiers": {"admin"},
    "/standing-orders": {"buyer", "partner_admin"},
    "/standing-orders/new": {"buyer", "partner_admin"},
    "/standing-orders/settings": {"partner_admin"},
    "/referrals": {"buyer", "partner_admin"},
    "/referrals/new": {"buyer", "partner_admin"},
    "/manage/referrals": {"account_manager", "admin"},
    "/manage/referrals/report": {"account_manager", "admin"},
    "/manage/referrals/report.csv": {"account_manager", "admin"},
    "/manage/standing-runs": {"account_manager", "admin"},
    "/manage/standing-runs/export.csv": {"account_manager", "admin"},
    "/manage/portfolio": {"account_manager", "admin"},
    "/manage/portfolio/export.csv": {"account_manager", "admin"},
    "/feedback": {"buyer", "partner_admin"},
}
# Allowed, but answered with a redirect (an empty cart has nothing to check out).
REDIRECTS = {"/checkout": "/cart"}


@pytest.fixture
def signed_in(app, f):
    def make(role):
        client = app.test_client()
        if role != "anonymous":
            user = f.user(role=role)
            assert sign_in(client, user).status_code == 302
        return client

    return make


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", sorted(PAGES))
def test_role_matrix(signed_in, role, path):
    response = signed_in(role).get(path)
    if role in PAGES[path] and path in REDIRECTS:
        assert response.status_code == 302 and response.headers["Location"] == REDIRECTS[path]
    elif role in PAGES[path]:
        assert response.status_code == 200
    elif role == "anonymous":
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    else:
        assert response.status_code == 403
        assert "You do not have access to this page." in response.text


def test_every_get_page_is_in_the_matrix(app):
    public = {"/", "/login", "/healthz", "/api/v1/openapi.json", "/api/v1/me", "/api/v1/products",
              "/api/v1/orders", "/forgot-password", "/forgot-password/sent",  # test_password_reset.py
              "/api/v1/recurring-orders",  # test_recurring_api.py
              "/api/v1/referrals",  # test_referrals_api.py
              "/api/v1/partners"}  # staff only: test_relationship_api.py
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.arguments or rule.endpoint == "static":
            continue
        assert rule.rule in PAGES or rule.rule in public, f"{rule.rule} is not covered by test_role_matrix"


def test_forbidden_page_is_audited(signed_in, db):
    signed_in("buyer").get("/admin/users")
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "authz_denied")).all()
    assert event.detail["path"] == "/admin/users" and event.actor_id is not None


def test_account_manager_sees_only_assigned_partners(app, f):
    manager, other_manager = f.user(role="account_manager"), f.user(role="account_manager")
    mine = f.partner(name="Mine Grocers", account_manager_id=manager.id)
    theirs = f.partner(name="Theirs Deli", account_manager_id=other_manager.id)
    client = app.test_client()
    sign_in(client, manager)
    listing = client.get("/manage/partners").text
    assert "Mine Grocers" in listing and "Theirs Deli" not in listing
    assert client.get(f"/manage/partners/{mine.id}").status_code == 200
    assert client.get(f"/manage/partners/{theirs.id}").status_code == 404


def test_unassigned_manager_loses_access_on_next_request(app, f, db):
    manager = f.user(role="account_manager")
    partner = f.partner(account_manager_id=manager.id)
    client = app.test_client()
    sign_in(client, manager)
    assert client.get(f"/manage/partners/{partner.id}").status_code == 200
    partner.account_manager_id = None
    db.commit()
    assert client.get(f"/manage/partners/{partner.id}").status_code == 404


def test_admin_sees_every_partner(app, f):
    admin = f.user(role="admin")
    a, b = f.partner(name="Alpha Store"), f.partner(name="Beta Store")
    client = app.test_client()
    sign_in(client, admin)
    listing = client.get("/manage/partners").text
    assert "Alpha Store" in listing and "Beta Store" in listing
    assert client.get(f"/manage/partners/{b.id}").status_code == 200
    assert client.get(f"/manage/partners/{a.id + b.id + 1000}").status_code == 404


def test_dashboard_shows_only_own_company(app, f):
    mine, other = f.partner(name="Own Company"), f.partner(name="Other Company")
    f.order(mine)
    f.order(other)
    f.order(other)
    user = f.user(partner=mine)
    client = app.test_client()
    sign_in(client, user)
    page = client.get("/dashboard").text
    assert "Own Company" in page and "Other Company" not in page
    assert "1 order placed and not yet delivered or cancelled" in page
