"""The referrals API: partner users send and follow theirs, staff work them; scoped like orders."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.models import Referral
from tests.portal.helpers import bearer, issue

BODY = {"company_name": "Green Grocer", "contact_name": "Anna Nowak", "email": "anna@greengrocer.pl",
        "website": "greengrocer.pl", "consent": True}


@pytest.fixture
def people(app, f):
    manager = f.user(role="account_manager")
    partner = f.partner(account_manager_id=manager.id)
    buyer = f.user(partner=partner)
    client = app.test_client()
    return {"client": client, "manager": manager, "partner": partner,
            "buyer": bearer(issue(client, buyer)), "staff": bearer(issue(client, manager))}


def send(people, body=None, key="k1", who="buyer"):
    return people["client"].post("/api/v1/referrals", json=body or BODY,
                                 headers={**people[who], "Idempotency-Key": key})


def test_a_partner_user_sends_a_referral_once_and_follows_it(people, db):
    first = send(people)
    assert first.status_code == 201
    assert first.json["status"] == "submitted" and first.json["source"] == "api"
    assert first.json["score"] is None and first.json["manager_id"] is None  # staff only
    again = send(people)
    assert again.status_code == 200 and again.json["id"] == first.json["id"]
    assert db.scalar(select(func.count()).select_from(Referral)) == 1
    changed = send(people, {**BODY, "city": "Kraków"})
    assert changed.status_code == 409
    listing = people["client"].get("/api/v1/referrals", headers=people["buyer"]).json
    assert listing["total"] == 1 and listing["items"][0]["company_name"] == "Green Grocer"
    one = people["client"].get(f"/api/v1/referrals/{first.json['id']}", headers=people["buyer"])
    assert one.status_code == 200 and one.json["email"] == "anna@greengrocer.pl"


@pytest.mark.parametrize(("body", "field"), [
    ({**BODY, "consent": False}, "consent"), ({**BODY, "email": "nope"}, "email"),
    ({**BODY, "website": "javascript:alert(1)"}, "website"), ({**BODY, "note": "a\x00b"}, "note"),
    ({k: v for k, v in BODY.items() if k != "company_name"}, "company_name"),
    ({**BODY, "extra": 1}, "extra")])
def test_bad_bodies_get_a_json_error_naming_the_field(people, db, body, field):
    response = send(people, body)
    assert response.status_code == 422
    assert field in response.json["error"]["details"]["body"]
    assert db.scalar(select(func.count()).select_from(Referral)) == 0


def test_staff_work_the_referral_through_the_api(people, f, db):
    referral_id = send(people).json["id"]
    client, staff = people["client"], people["staff"]
    seen = client.get(f"/api/v1/referrals/{referral_id}", headers=staff).json
    assert seen["score"] > 0 and seen["score_reasons"][0] == {"code": "base", "points": 20}
    response = client.patch(f"/api/v1/referrals/{referral_id}", json={"status": "rejected"}, headers=staff)
    assert response.status_code == 422 and "note" in response.json["error"]["details"]["body"]
    response = client.patch(f"/api/v1/referrals/{referral_id}", json={"status": "converted"}, headers=staff)
    assert response.status_code == 422
    other = f.user(role="account_manager")
    response = client.patch(f"/api/v1/referrals/{referral_id}", json={"status": "contacted", "manager_id": other.id},
                            headers=staff)
    assert response.status_code == 200
    assert (response.json["status"], response.json["manager_id"]) == ("contacted", other.id)
    bad = client.patch(f"/api/v1/referrals/{referral_id}", json={"status": "qualified", "manager_id": 999999},
                       headers=staff)
    assert bad.status_code == 422
    assert client.get(f"/api/v1/referrals/{referral_id}", headers=staff).json["status"] == "contacted"
    noted = client.patch(f"/api/v1/referrals/{referral_id}", json={"note": "Called, will call back Monday"},
                         headers=staff)
    assert noted.status_code == 200 and noted.json["status"] == "contacted"
    events = db.get(Referral, referral_id).events
    assert events[-1].note == "Called, will call back Monday" and events[-1].to_status == "contacted"


def test_partner_users_cannot_change_referrals_and_staff_cannot_send_them(people):
    referral_id = send(people).json["id"]
    response = people["client"].patch(f"/api/v1/referrals/{referral_id}", json={"status": "contacted"},
                                      headers=people["buyer"])
    assert response.status_code == 403
    assert send(people, key="k2", who="staff").status_code == 403


def test_another_partners_referral_is_not_found_everywhere(people, app, f):
    referral_id = send(people).json["id"]
    client = app.test_client()
    stranger = bearer(issue(client, f.user()))
    other_manager = bearer(issue(client, f.user(role="account_manager")))
    for headers in (stranger, other_manager):
        assert client.get(f"/api/v1/referrals/{referral_id}", headers=headers).status_code == 404
        assert client.get("/api/v1/referrals", headers=headers).json["total"] == 0
    assert client.patch(f"/api/v1/referrals/{referral_id}", json={"status": "contacted"},
                        headers=other_manager).status_code == 404


def test_staff_convert_a_referral_through_the_api_once(people, app, f, db):
    referral_id = send(people).json["id"]
    client, staff = people["client"], people["staff"]
    body = {"name": "Green Grocer", "code": "GREEN", "invite_email": "anna@greengrocer.pl"}
    stranger = bearer(issue(client, f.user(role="account_manager")))
    assert client.post(f"/api/v1/referrals/{referral_id}/convert", json=body, headers=stranger).status_code == 404
    assert client.post(f"/api/v1/referrals/{referral_id}/convert", json=body,
                       headers=people["buyer"]).status_code == 403
    done = client.post(f"/api/v1/referrals/{referral_id}/convert", json=body, headers=staff)
    assert done.status_code == 201, done.json
    assert done.json["referral"]["status"] == "converted" and done.json["invited"] == "anna@greengrocer.pl"
    again = client.post(f"/api/v1/referrals/{referral_id}/convert", json={**body, "code": "GREEN2"}, headers=staff)
    assert again.status_code == 409
    from portal.models import Partner
    assert db.scalar(select(Partner.referred_by_id).where(Partner.code == "GREEN")) == people["partner"].id
