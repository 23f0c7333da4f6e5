"""Converting a referral: the new partner, its referrer, its first user, exactly once."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from portal.models import AuditEvent, Invitation, Notification, Partner, Referral
from portal.referrals import conversion, intake
from tests.portal.factories import Factories
from tests.portal.helpers import sign_in


def _referral(db, partner, company="Green Grocer"):
    data = intake.ReferralData(company_name=company, contact_name="Anna Nowak", consent=True,
                               email="anna@greengrocer.pl", phone="600 100 200")
    return intake.submit(db, partner, data, key=company, source="portal")[0]


@pytest.fixture
def setup(app, f, db):
    manager = f.user(role="account_manager")
    referrer = f.partner(name="Delikatesy Kowalski", account_manager_id=manager.id)
    client = app.test_client()
    sign_in(client, manager)
    return {"client": client, "manager": manager, "referrer": referrer, "referral": _referral(db, referrer)}


def test_a_manager_converts_a_referral_into_a_partner_and_invites_its_first_user(setup, db):
    client, referral = setup["client"], setup["referral"]
    form = client.get(f"/manage/referrals/{referral.id}/convert").text
    assert "It cannot be undone." in form and 'value="GREEN-GROCER"' in form and "anna@greengrocer.pl" in form
    response = client.post(f"/manage/referrals/{referral.id}/convert", data={
        "name": "Green Grocer", "code": "GREEN-GROCER", "invite_email": "anna@greengrocer.pl",
        "invite_name": "Anna Nowak"})
    assert response.status_code == 302
    db.expire_all()
    partner = db.scalar(select(Partner).where(Partner.code == "GREEN-GROCER"))
    assert response.headers["Location"] == f"/manage/partners/{partner.id}"
    assert partner.referred_by_id == setup["referrer"].id
    assert partner.account_manager_id == setup["manager"].id
    assert (partner.contact_name, partner.contact_email, partner.stage) == (
        "Anna Nowak", "anna@greengrocer.pl", "prospect")
    referral = db.get(Referral, referral.id)
    assert (referral.status, referral.converted_partner_id) == ("converted", partner.id)
    assert referral.events[-1].to_status == "converted"
    invitation = db.scalar(select(Invitation))
    assert (invitation.partner_id, invitation.email, invitation.role) == (
        partner.id, "anna@greengrocer.pl", "partner_admin")
    told = db.scalar(select(Notification).where(Notification.kind == "referral_converted"))
    assert told.partner_id == setup["referrer"].id
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "referral_converted")) is not None
    assert "Became the partner Green Grocer" in client.get(f"/manage/referrals/{referral.id}").text


def test_the_invited_user_can_accept_a_staff_invitation(app, setup, db):
    client, referral = setup["client"], setup["referral"]
    client.post(f"/manage/referrals/{referral.id}/convert", data={
        "name": "Green Grocer", "code": "GREEN-GROCER", "invite_email": "anna@greengrocer.pl", "invite_name": "Anna"})
    note = db.scalar(select(Notification).where(Notification.kind == "invitation"))
    token = note.payload["link"].rsplit("/", 1)[1]
    visitor = app.test_client()
    assert visitor.get(f"/invitations/{token}").status_code == 200


def test_a_taken_code_keeps_the_referral_open(setup, db, f):
    f.partner(code="TAKEN")
    response = setup["client"].post(f"/manage/referrals/{setup['referral'].id}/convert",
                                    data={"name": "Green Grocer", "code": "TAKEN"})
    assert response.status_code == 422 and "already exists" in response.text
    db.expire_all()
    assert db.get(Referral, setup["referral"].id).status == "submitted"
    assert db.scalar(select(func.count()).select_from(Partner)) == 2


def test_a_closed_referral_cannot_be_converted(setup, db):
    db.execute(Referral.__table__.update().values(status="rejected"))
    db.commit()
    client = setup["client"]
    assert client.get(f"/manage/referrals/{setup['referral'].id}/convert").status_code == 302
    response = client.post(f"/manage/referrals/{setup['referral'].id}/convert", data={"name": "X", "code": "XX"})
    assert response.status_code == 302
    assert db.scalar(select(func.count()).select_from(Partner)) == 1


def test_another_managers_referral_cannot_be_converted(app, setup, f, db):
    other = app.test_client()
    sign_in(other, f.user(role="account_manager"))
    path = f"/manage/referrals/{setup['referral'].id}/convert"
    assert other.get(path).status_code == 404
    assert other.post(path, data={"name": "X", "code": "XX"}).status_code == 404
    assert db.scalar(select(func.count()).select_from(Partner)) == 1


@pytest.mark.postgres
def test_two_managers_converting_at_once_make_one_partner(live_pg_app):
    from portal.core.access import Actor

    app = live_pg_app
    factory = app.extensions["trellis.session_factory"]
    with factory() as db:
        f = Factories(db)
        admin = f.user(role="admin")
        referral_id = _referral(db, f.partner()).id
    barrier, results = threading.Barrier(4), []

    def go(n):
        with app.app_context(), factory() as db:
            barrier.wait()
            try:
                conversion.convert(db, Actor(admin.id, "admin"), referral_id,
                                   conversion.NewPartner("Green Grocer", f"GREEN-{n}"))
                results.append("ok")
            except conversion.Conflict:
                results.append("conflict")

    threads = [threading.Thread(target=go, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == ["conflict"] * 3 + ["ok"]
    with factory() as db:
        assert db.scalar(select(func.count()).select_from(Partner).where(Partner.code.like("GREEN-%"))) == 1


@pytest.mark.postgres
def test_two_referrals_converted_at_once_under_one_code_make_one_partner_and_a_clear_refusal(live_pg_app):
    """Different referrals, the same new code: the loser is told the code is taken (no 500) and
    its referral stays open."""
    from portal.core.access import Actor

    app = live_pg_app
    factory = app.extensions["trellis.session_factory"]
    with factory() as db:
        f = Factories(db)
        admin = f.user(role="admin")
        ids = [intake.submit(db, f.partner(), intake.ReferralData(
            company_name=name, contact_name="Anna", consent=True, email=f"anna@{name.split()[0].lower()}.pl"),
            key=name, source="portal")[0].id for name in ("Green Grocer", "Blue Baker")]
    barrier, results = threading.Barrier(2), []

    def go(referral_id):
        with app.app_context(), factory() as db:
            barrier.wait()
            try:
                conversion.convert(db, Actor(admin.id, "admin"), referral_id,
                                   conversion.NewPartner("Same Shop", "SAME-CODE"))
                results.append("ok")
            except conversion.Conflict as err:
                results.append(str(err))

    threads = [threading.Thread(target=go, args=(referral_id,)) for referral_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == ["A partner with code SAME-CODE already exists.", "ok"]
    with factory() as db:
        statuses = sorted(db.scalars(select(Referral.status).where(Referral.id.in_(ids))))
        assert statuses == ["converted", "submitted"]


def test_staff_invite_only_a_partners_first_user_and_only_as_its_administrator(app, db, f):
    from portal.accounts import invitations
    from portal.core.access import Actor
    from portal.core.errors import ServiceError

    admin, manager = f.user(role="admin"), f.user(role="account_manager")
    theirs = f.partner(account_manager_id=manager.id)
    staffed = f.user(partner=theirs)  # the partner has people already

    def invite(who, partner, role="partner_admin", email="new@shop.pl"):
        with app.test_request_context():
            return invitations.invite_user(db, Actor(who.id, who.role), email=email, role=role,
                                           link_for=lambda token: token, queue_email=lambda *a, **k: None,
                                           partner_id=partner.id)

    with pytest.raises(ServiceError, match="has users already"):
        invite(admin, theirs)
    with pytest.raises(ServiceError, match="has users already"):
        invite(manager, theirs)
    empty = f.partner(account_manager_id=manager.id)
    with pytest.raises(ServiceError, match="first user is its administrator"):
        invite(manager, empty, role="buyer")
    with pytest.raises(ServiceError, match="account manager or an administrator"):
        invite(f.user(role="account_manager"), empty)
    invitation, _token = invite(manager, empty)
    assert (invitation.partner_id, invitation.role) == (empty.id, "partner_admin")
    assert staffed.partner_id == theirs.id


def test_an_older_staff_invitation_cannot_add_a_second_login_once_the_first_user_is_in(app, db, f):
    from portal.accounts import invitations
    from portal.core.access import Actor
    from portal.core.errors import Conflict, NotFound

    manager = f.user(role="account_manager")
    empty = f.partner(account_manager_id=manager.id)

    def invite(email):
        with app.test_request_context():
            return invitations.invite_user(db, Actor(manager.id, manager.role), email=email, role="partner_admin",
                                           link_for=lambda token: token, queue_email=lambda *a, **k: None,
                                           partner_id=empty.id)

    _first, token = invite("owner@shop.pl")
    with pytest.raises(Conflict, match="invited already"):
        invite("someone.else@gmail.com")
    # An invitation from before (say, revoked checks aside) must not work once the owner is in.
    from portal.models import Invitation
    other = Invitation(partner_id=empty.id, email="manager.private@gmail.com", role="partner_admin",
                       token_hash=invitations.hash_token("older-token"), invited_by_id=manager.id,
                       expires_at=_first.expires_at)
    db.add(other)
    db.commit()
    with app.test_request_context():
        invitations.accept_invitation(db, token, password="a long enough passphrase 42")
        with pytest.raises(NotFound):
            invitations.find_invitation(db, "older-token")
    assert other.id not in {i.id for i in invitations.open_invitations(db, empty.id)}
