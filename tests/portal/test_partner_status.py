"""Pausing, churning and reactivating a partner: its people are signed out at once."""
from __future__ import annotations

from sqlalchemy import select

from portal.models import AuditEvent, Partner
from tests.portal.helpers import basic, bearer, issue, sign_in


def test_admin_pauses_a_partner_after_a_confirmation_and_its_buyer_is_signed_out_at_once(app, f, db):
    admin = f.user(role="admin")
    partner = f.partner(name="Corner Shop")
    buyer = f.user(partner=partner)
    f.user(partner=partner, active=False)
    buyer_browser, api = app.test_client(), app.test_client()
    sign_in(buyer_browser, buyer)
    token = issue(api, buyer)
    assert buyer_browser.get("/dashboard").status_code == 200

    client = app.test_client()
    sign_in(client, admin)
    page = client.get(f"/manage/partners/{partner.id}").text
    assert f"/admin/partners/{partner.id}/status?status=paused" in page
    confirm = client.get(f"/admin/partners/{partner.id}/status?status=paused")
    assert confirm.status_code == 200
    assert f"Corner Shop ({partner.code}) is active. Make it paused?" in confirm.text
    assert "Its 1 active user is signed out at once" in confirm.text
    db.expire_all()
    assert db.get(Partner, partner.id).status == "active"  # nothing happens before the confirmation

    response = client.post(f"/admin/partners/{partner.id}/status", data={"status": "paused"})
    assert response.status_code == 302
    assert client.get(response.headers["Location"]).text.count("Corner Shop is paused now") == 1
    db.expire_all()
    assert db.get(Partner, partner.id).status == "paused"
    dashboard = buyer_browser.get("/dashboard")
    assert dashboard.status_code == 302 and "/login" in dashboard.headers["Location"]
    assert api.get("/api/v1/me", headers=bearer(token)).status_code == 401
    assert api.post("/api/v1/tokens", headers=basic(buyer.email, "correct horse battery")).status_code == 401
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "partner_status_changed")).all()
    assert event.actor_id == admin.id and event.partner_id == partner.id
    assert event.detail == {"previous": "active", "status": "paused", "sessions_ended": 1,
                            "api_tokens_revoked": 1, "invitations_revoked": 0}


def test_reactivated_partner_can_sign_in_again_but_old_sessions_and_tokens_stay_ended(app, f, db):
    admin = f.user(role="admin")
    partner = f.partner(name="Harbour Deli")
    buyer = f.user(partner=partner)
    buyer_browser, api = app.test_client(), app.test_client()
    sign_in(buyer_browser, buyer)
    token = issue(api, buyer)
    client = app.test_client()
    sign_in(client, admin)
    assert client.post(f"/admin/partners/{partner.id}/status", data={"status": "churned"}).status_code == 302
    assert "Its users can sign in again" in client.get(f"/admin/partners/{partner.id}/status?status=active").text
    response = client.post(f"/admin/partners/{partner.id}/status", data={"status": "active"})
    assert "Harbour Deli is active again" in client.get(response.headers["Location"]).text
    assert buyer_browser.get("/dashboard").status_code == 302
    assert api.get("/api/v1/me", headers=bearer(token)).status_code == 401
    assert sign_in(app.test_client(), buyer).status_code == 302
    assert api.get("/api/v1/me", headers=bearer(issue(api, buyer))).status_code == 200


def test_setting_the_status_a_partner_already_has_is_refused_with_a_message(app, f):
    admin = f.user(role="admin")
    partner = f.partner(status="paused")
    client = app.test_client()
    sign_in(client, admin)
    assert client.get(f"/admin/partners/{partner.id}/status?status=paused").status_code == 404
    assert client.get(f"/admin/partners/{partner.id}/status?status=asleep").status_code == 404
    response = client.post(f"/admin/partners/{partner.id}/status", data={"status": "paused"})
    assert f"{partner.code} is paused already." in client.get(response.headers["Location"]).text


def test_only_admins_change_a_partners_status(app, f, db):
    partner = f.partner()
    manager = f.user(role="account_manager")
    partner.account_manager_id = manager.id
    db.commit()
    for user in (manager, f.user(role="partner_admin", partner=partner)):
        client = app.test_client()
        sign_in(client, user)
        assert client.get(f"/admin/partners/{partner.id}/status?status=paused").status_code == 403
        assert client.post(f"/admin/partners/{partner.id}/status", data={"status": "paused"}).status_code == 403
    db.expire_all()
    assert db.get(Partner, partner.id).status == "active"


def test_partner_status_is_set_from_the_cli(app, f, db):
    partner = f.partner(code="CLI1")
    buyer = f.user(partner=partner)
    browser = app.test_client()
    sign_in(browser, buyer)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["partners", "set-status", "--code", "cli1", "--status", "churned"])
    assert result.exit_code == 0, result.output
    assert "Partner CLI1 is churned now." in result.output
    assert browser.get("/dashboard").status_code == 302
    db.expire_all()
    assert db.get(Partner, partner.id).status == "churned"


def test_partner_status_cli_bad_input_exits_2_and_changes_nothing(app, f, db):
    partner = f.partner(code="CLI2")
    runner = app.test_cli_runner()
    cases = [
        (["--code", "CLI2", "--status", "asleep"], "Invalid value"),
        (["--code", "NOPE", "--status", "paused"], "No partner with code NOPE"),
        (["--code", "CLI2", "--status", "active"], "CLI2 is active already."),
    ]
    for args, message in cases:
        result = runner.invoke(args=["partners", "set-status", *args])
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output
    db.expire_all()
    assert db.get(Partner, partner.id).status == "active"
