"""Working referrals: staff list and filters, statuses and their history, assignment, notes, score."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.models import AuditEvent, Referral
from portal.referrals import intake, scoring
from tests.portal.helpers import sign_in


@pytest.fixture
def setup(app, f, db):
    manager = f.user(role="account_manager", name="Maria Manager")
    other_manager = f.user(role="account_manager", name="Olek Other")
    mine = f.partner(name="Delikatesy Kowalski", account_manager_id=manager.id)
    theirs = f.partner(name="Sklep Inny", account_manager_id=other_manager.id)

    def referral(partner, company, **kw):
        data = intake.ReferralData(company_name=company, contact_name="Anna", consent=True,
                                   email=kw.pop("email", f"anna@{company.lower().replace(' ', '')}.pl"), **kw)
        return intake.submit(db, partner, data, key=company, source="portal")[0]

    client = app.test_client()
    sign_in(client, manager)
    return {"client": client, "manager": manager, "other_manager": other_manager, "mine": mine,
            "theirs": theirs, "referral": referral}


def test_a_manager_works_a_referral_through_the_pipeline(setup, db):
    client = setup["client"]
    referral = setup["referral"](setup["mine"], "Green Grocer", website="greengrocer.pl", phone="600100200")
    listing = client.get("/manage/referrals").text
    assert "Green Grocer" in listing and "Delikatesy Kowalski" in listing
    page = client.get(f"/manage/referrals/{referral.id}").text
    assert "Lead score: 60 of 100" in page and "a company website" in page
    response = client.post(f"/manage/referrals/{referral.id}/status",
                           data={"s-status": "contacted", "s-note": "Called"})
    assert response.status_code == 302
    client.post(f"/manage/referrals/{referral.id}/status", data={"s-status": "qualified"})
    db.expire_all()
    referral = db.get(Referral, referral.id)
    assert referral.status == "qualified"
    assert [(e.from_status, e.to_status) for e in referral.events] == [
        ("", "submitted"), ("submitted", "contacted"), ("contacted", "qualified")]
    assert referral.events[1].actor_id == setup["manager"].id and referral.events[1].note == "Called"
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "referral_status_changed")) is not None
    history = client.get(f"/manage/referrals/{referral.id}").text
    assert "submitted → contacted" in history and "Maria Manager" in history


def test_rejecting_needs_a_reason_and_can_be_reopened(setup, db):
    client = setup["client"]
    referral = setup["referral"](setup["mine"], "Green Grocer")
    response = client.post(f"/manage/referrals/{referral.id}/status", data={"s-status": "rejected", "s-note": ""})
    assert response.status_code == 422 and "Say why the referral is not taken further." in response.text
    client.post(f"/manage/referrals/{referral.id}/status", data={"s-status": "rejected", "s-note": "Out of area"})
    db.expire_all()
    stored = db.get(Referral, referral.id)
    assert (stored.status, stored.reject_reason) == ("rejected", "Out of area")
    assert client.post(f"/manage/referrals/{referral.id}/status", data={"s-status": "submitted"}).status_code == 302


@pytest.mark.parametrize("to", ["converted", "duplicate", "nonsense"])
def test_illegal_transitions_are_refused(setup, db, to):
    referral = setup["referral"](setup["mine"], "Green Grocer")
    response = setup["client"].post(f"/manage/referrals/{referral.id}/status", data={"s-status": to})
    assert response.status_code == 422
    db.expire_all()
    assert db.get(Referral, referral.id).status == "submitted"


def test_notes_and_assignment_are_kept_in_the_history(setup, db):
    client = setup["client"]
    referral = setup["referral"](setup["mine"], "Green Grocer")
    assert client.post(f"/manage/referrals/{referral.id}/notes", data={"n-note": ""}).status_code == 422
    client.post(f"/manage/referrals/{referral.id}/notes", data={"n-note": "<b>Owner</b> back in May"})
    assert "&lt;b&gt;Owner&lt;/b&gt; back in May" in client.get(f"/manage/referrals/{referral.id}").text
    client.post(f"/manage/referrals/{referral.id}/assign", data={"a-manager_id": setup["other_manager"].id})
    db.expire_all()
    assert db.get(Referral, referral.id).manager_id == setup["other_manager"].id
    # still visible: the referrer is the manager's partner
    assert client.get(f"/manage/referrals/{referral.id}").status_code == 200


def test_a_manager_sees_only_referrals_of_their_partners_or_assigned_to_them(setup, db, app, f):
    client = setup["client"]
    theirs = setup["referral"](setup["theirs"], "Far Away Shop")
    assert "Far Away Shop" not in client.get("/manage/referrals").text
    for path, data in ((f"/manage/referrals/{theirs.id}", None),
                       (f"/manage/referrals/{theirs.id}/status", {"s-status": "contacted"}),
                       (f"/manage/referrals/{theirs.id}/notes", {"n-note": "x"}),
                       (f"/manage/referrals/{theirs.id}/assign", {"a-manager_id": setup["manager"].id})):
        response = client.post(path, data=data) if data else client.get(path)
        assert response.status_code == 404
    db.expire_all()
    assert db.get(Referral, theirs.id).status == "submitted" and len(db.get(Referral, theirs.id).events) == 1
    # once assigned to this manager, it is theirs to work
    db.execute(Referral.__table__.update().values(manager_id=setup["manager"].id))
    db.commit()
    assert client.get(f"/manage/referrals/{theirs.id}").status_code == 200
    # an admin sees everything
    admin = app.test_client()
    sign_in(admin, f.user(role="admin"))
    assert "Far Away Shop" in admin.get("/manage/referrals").text


def test_partner_users_reach_no_pipeline_page(app, f, setup):
    referral = setup["referral"](setup["mine"], "Green Grocer")
    client = app.test_client()
    sign_in(client, f.user(partner=setup["mine"]))
    assert client.get("/manage/referrals").status_code == 403
    assert client.get(f"/manage/referrals/{referral.id}").status_code == 403
    assert client.post(f"/manage/referrals/{referral.id}/status", data={"s-status": "contacted"}).status_code == 403


def test_filters(setup, db):
    client = setup["client"]
    a = setup["referral"](setup["mine"], "Alpha Shop")
    setup["referral"](setup["mine"], "Beta Shop")
    client.post(f"/manage/referrals/{a.id}/status", data={"s-status": "rejected", "s-note": "No"})
    page = client.get("/manage/referrals?status=open").text
    assert "Beta Shop" in page and "Alpha Shop" not in page
    page = client.get("/manage/referrals?status=rejected").text
    assert "Alpha Shop" in page and "Beta Shop" not in page
    assert "Beta Shop" in client.get("/manage/referrals?age=week").text
    assert "Beta Shop" not in client.get("/manage/referrals?age=older").text
    # nonsense in the address bar is ignored, never a 500 (a NUL byte is refused everywhere)
    assert client.get("/manage/referrals?status=x&referrer=abc&age=x&page=-1").status_code == 200
    assert client.get("/manage/referrals?status=%00").status_code == 400


def test_the_score_counts_the_referrers_converted_referrals(setup, db):
    first = setup["referral"](setup["mine"], "First Shop")
    db.execute(Referral.__table__.update().where(Referral.id == first.id).values(status="converted"))
    db.commit()
    second = setup["referral"](setup["mine"], "Second Shop", email="x@gmail.com")
    assert dict(map(tuple, second.score_reasons))["referrer_converted"] == 10
    assert second.score == scoring.BASE + 10
    duplicate = setup["referral"](setup["mine"], "Second Shop S.A.", email="y@gmail.com")
    assert duplicate.status == "duplicate" and duplicate.score == 0
