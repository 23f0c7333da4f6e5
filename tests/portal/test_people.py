"""Partner admins manage their company's users; admins create partners and staff."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import func, select

from portal.models import AuditEvent, Invitation, User
from tests.portal.factories import PASSWORD
from tests.portal.helpers import sign_in


def invite(client, email="new.colleague@example.test", role="buyer"):
    response = client.post("/company/users", data={"email": email, "name": "New Colleague", "role": role},
                           follow_redirects=True)  # Post/Redirect/Get: the link is on the page after
    assert response.status_code == 200 and len(response.history) == 1, response.text
    return re.search(r"http://127.0.0.1:5000(/invitations/[\w-]+)", response.text).group(1)


def test_partner_admin_invites_a_colleague_who_sets_a_password_once(app, f, db):
    owner = f.user(role="partner_admin")
    client = app.test_client()
    sign_in(client, owner)
    link = invite(client)
    invitee = app.test_client()
    assert "Choose your password" in invitee.get(link).text
    response = invitee.post(link, data={"name": "New Colleague", "password": "my own passphrase",
                                        "confirm": "my own passphrase"})
    assert response.status_code == 302
    user = db.scalar(select(User).where(User.email == "new.colleague@example.test"))
    assert user.partner_id == owner.partner_id and user.role == "buyer"
    assert user.password_hash.startswith("$argon2id$")
    assert invitee.post("/login", data={"email": user.email, "password": "my own passphrase"}).status_code == 302
    # The link is spent.
    assert app.test_client().get(link).status_code == 404


def test_invitation_link_expires(app, f):
    owner = f.user(role="partner_admin")
    client = app.test_client()
    sign_in(client, owner)
    link = invite(client)
    with time_machine.travel(datetime.now(UTC) + timedelta(days=app.config["INVITATION_DAYS"], hours=1)):
        assert app.test_client().get(link).status_code == 404


def test_inviting_a_member_of_ones_own_company_is_a_form_error(app, f):
    owner = f.user(role="partner_admin")
    colleague = f.user(partner=owner.partner)
    client = app.test_client()
    sign_in(client, owner)
    response = client.post("/company/users", data={"email": colleague.email.upper(), "role": "buyer"})
    assert response.status_code == 422 and "already has an account in your company" in response.text


def test_invitations_do_not_tell_whether_an_email_has_an_account_outside_the_company(app, f, db):
    """Staff, another company's user and a new email: the same answer, word for word."""
    owner = f.user(role="partner_admin")
    staff, stranger = f.user(role="admin"), f.user(partner=f.partner())
    client = app.test_client()
    sign_in(client, owner)

    links = []

    def answer(email):
        posted = client.post("/company/users", data={"email": email, "role": "buyer"})
        page = client.get("/company/users").text
        links.extend(re.findall(r"http://127.0.0.1:5000(/invitations/[\w-]+)", page))
        shown = re.sub(r"/invitations/[\w-]+", "/invitations/TOKEN", page).replace(email, "EMAIL")
        return posted.status_code, posted.headers.get("Location"), shown.split("<main", 1)[1].split("<table", 1)[0]

    fresh = answer("nobody.yet@example.test")
    assert answer(staff.email) == fresh and answer(stranger.email) == fresh
    # Such an invitation leads nowhere: accepting it is refused, and only the email's owner sees that.
    assert len(links) == 3
    accept = app.test_client().post(links[-1], data={"name": "X", "password": "quiet orchard lantern",
                                                "confirm": "quiet orchard lantern"})
    assert "already an account" in accept.text
    assert db.scalar(select(func.count(User.id)).where(User.email == stranger.email)) == 1


def test_partner_admin_deactivates_a_colleague_who_is_signed_out_at_once(app, f):
    owner = f.user(role="partner_admin")
    colleague = f.user(partner=owner.partner)
    colleague_client = app.test_client()
    sign_in(colleague_client, colleague)
    client = app.test_client()
    sign_in(client, owner)
    response = client.post(f"/company/users/{colleague.id}/deactivate")
    assert response.status_code == 302
    assert colleague_client.get("/dashboard").status_code == 302
    assert sign_in(app.test_client(), colleague).status_code == 401


def test_partner_admin_cannot_deactivate_users_of_another_company(app, f, db):
    owner = f.user(role="partner_admin")
    stranger = f.user()
    client = app.test_client()
    sign_in(client, owner)
    assert client.post(f"/company/users/{stranger.id}/deactivate").status_code == 404
    db.expire_all()
    assert db.get(User, stranger.id).active is True


def test_company_users_page_lists_only_own_company(app, f):
    owner = f.user(role="partner_admin", email="owner@own.test")
    f.user(partner=owner.partner, email="colleague@own.test")
    f.user(email="stranger@other.test")
    client = app.test_client()
    sign_in(client, owner)
    page = client.get("/company/users").text
    assert "colleague@own.test" in page and "stranger@other.test" not in page


def test_buyer_cannot_invite(app, f):
    buyer = f.user()
    client = app.test_client()
    sign_in(client, buyer)
    assert client.post("/company/users", data={"email": "x@example.test", "role": "buyer"}).status_code == 403


def test_admin_creates_a_partner_and_its_first_user(app, f, db):
    admin = f.user(role="admin")
    client = app.test_client()
    sign_in(client, admin)
    response = client.post("/admin/partners/new", data={"name": "Harbour Deli", "code": "hd-01"})
    assert response.status_code == 302
    response = client.post("/admin/users", data={"email": "owner@harbour.test", "role": "partner_admin",
                                                 "partner": "HD-01", "password": "quiet orchard lantern"})
    assert response.status_code == 302
    user = db.scalar(select(User).where(User.email == "owner@harbour.test"))
    assert user.partner.code == "HD-01"


def test_admin_gets_a_form_error_for_duplicate_partner_code(app, f):
    admin = f.user(role="admin")
    f.partner(code="TAKEN")
    client = app.test_client()
    sign_in(client, admin)
    response = client.post("/admin/partners/new", data={"name": "Copycat", "code": "taken"})
    assert response.status_code == 422 and "already exists" in response.text


def test_staff_user_with_a_partner_is_refused(app, f):
    admin = f.user(role="admin")
    partner = f.partner()
    client = app.test_client()
    sign_in(client, admin)
    response = client.post("/admin/users", data={"email": "am@example.test", "role": "account_manager",
                                                 "partner": partner.code, "password": "long enough pass"})
    assert "do not belong to a partner" in response.text


def test_accepting_an_invitation_whose_email_meanwhile_has_an_account_shows_a_message(app, f, db):
    owner = f.user(role="partner_admin")
    client = app.test_client()
    sign_in(client, owner)
    link = invite(client, email="late@example.test")
    f.user(email="late@example.test")  # e.g. the operator created the account in the meantime
    response = app.test_client().post(link, data={"name": "Late", "password": "my own passphrase",
                                                  "confirm": "my own passphrase"})
    assert response.status_code == 200
    assert "There is already an account for late@example.test: sign in with it instead." in response.text
    assert len(db.scalars(select(User).where(User.email == "late@example.test")).all()) == 1


def test_inviting_an_email_with_an_open_invitation_is_a_form_error(app, f, db):
    owner = f.user(role="partner_admin")
    client = app.test_client()
    sign_in(client, owner)
    invite(client, email="twice@example.test")
    response = client.post("/company/users", data={"email": "Twice@example.test", "role": "buyer"})
    assert response.status_code == 422
    assert "An invitation for twice@example.test is already open." in response.text
    assert db.scalar(select(func.count(Invitation.id))) == 1


def test_another_companys_open_invitation_does_not_block_or_leak(app, f):
    owner = f.user(role="partner_admin")
    other_owner = f.user(role="partner_admin")
    client = app.test_client()
    sign_in(client, owner)
    invite(client, email="shared@example.test")
    other = app.test_client()
    sign_in(other, other_owner)
    invite(other, email="shared@example.test")  # its own invitation, no word of the first
    page = other.get("/company/users").text
    assert "already open" not in page and page.count(">shared@example.test</td>") == 1  # one row


def invited_by_one_of_two_admins(app, f, email):
    """A partner admin invites ``email``; their co-admin is signed in on a second client."""
    owner = f.user(role="partner_admin")
    co_owner = f.user(role="partner_admin", partner=owner.partner)
    client = app.test_client()
    sign_in(client, owner)
    link = invite(client, email=email)
    co_client = app.test_client()
    sign_in(co_client, co_owner)
    return owner, link, co_client


def test_invitation_stays_dead_when_its_deactivated_inviter_is_reactivated(app, f, db):
    owner, link, co_client = invited_by_one_of_two_admins(app, f, "later@example.test")
    assert co_client.post(f"/company/users/{owner.id}/deactivate").status_code == 302
    assert co_client.post(f"/company/users/{owner.id}/activate").status_code == 302
    assert app.test_client().get(link).status_code == 404


def test_invitation_stays_dead_when_its_paused_partner_is_reactivated(app, f, db):
    from portal.accounts import people

    owner = f.user(role="partner_admin")
    client = app.test_client()
    sign_in(client, owner)
    link = invite(client, email="paused@example.test")
    people.set_partner_status(db, code=owner.partner.code, status="paused")
    people.set_partner_status(db, code=owner.partner.code, status="active")
    assert app.test_client().get(link).status_code == 404


def test_an_email_whose_invitation_expired_can_be_invited_again(app, f):
    owner = f.user(role="partner_admin")
    client = app.test_client()
    sign_in(client, owner)
    invite(client, email="again@example.test")
    later = datetime.now(UTC) + timedelta(days=app.config["INVITATION_DAYS"], hours=1)
    with time_machine.travel(later):
        client = app.test_client()
        sign_in(client, owner)
        invite(client, email="again@example.test")


def test_admin_reactivates_a_deactivated_user_who_can_sign_in_again(app, f, db):
    admin = f.user(role="admin")
    user = f.user(email="comeback@example.test")
    client = app.test_client()
    sign_in(client, admin)
    assert client.post(f"/admin/users/{user.id}/deactivate").status_code == 302
    assert sign_in(app.test_client(), user).status_code == 401
    page = client.get("/admin/users").text
    assert f"/admin/users/{user.id}/activate" in page
    response = client.post(f"/admin/users/{user.id}/activate")
    assert "comeback@example.test can sign in again." in client.get(response.headers["Location"]).text
    assert sign_in(app.test_client(), user).status_code == 302
    actions = db.scalars(select(AuditEvent.action).where(AuditEvent.target_id == user.id,
                                                        AuditEvent.target_type == "users")).all()
    assert actions == ["user_deactivated", "user_activated"]


def test_partner_admin_reactivates_a_colleague(app, f):
    owner = f.user(role="partner_admin")
    colleague = f.user(partner=owner.partner, active=False)
    client = app.test_client()
    sign_in(client, owner)
    response = client.post(f"/company/users/{colleague.id}/activate")
    assert f"{colleague.email} can sign in again." in client.get(response.headers["Location"]).text
    assert sign_in(app.test_client(), colleague).status_code == 302


def test_partner_admin_cannot_reactivate_users_of_another_company(app, f, db):
    owner = f.user(role="partner_admin")
    stranger = f.user(active=False)
    client = app.test_client()
    sign_in(client, owner)
    assert client.post(f"/company/users/{stranger.id}/activate").status_code == 404
    db.expire_all()
    assert db.get(User, stranger.id).active is False


def test_partner_admin_withdraws_an_invitation_whose_link_then_stops_working(app, f, db):
    owner = f.user(role="partner_admin")
    client = app.test_client()
    sign_in(client, owner)
    link = invite(client, email="withdrawn@example.test")
    invitation = db.scalar(select(Invitation).where(Invitation.email == "withdrawn@example.test"))
    page = client.get("/company/users").text
    assert f"/company/invitations/{invitation.id}/revoke" in page
    response = client.post(f"/company/invitations/{invitation.id}/revoke")
    page = client.get(response.headers["Location"]).text
    assert "The invitation for withdrawn@example.test is withdrawn" in page
    assert f"/company/invitations/{invitation.id}/revoke" not in page
    assert app.test_client().get(link).status_code == 404
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "invitation_revoked")).all()
    assert event.actor_id == owner.id and event.target_id == invitation.id
    invite(client, email="withdrawn@example.test")  # the email can be invited again


def test_partner_admin_cannot_withdraw_another_companys_invitation(app, f, db):
    owner, other_owner = f.user(role="partner_admin"), f.user(role="partner_admin")
    client = app.test_client()
    sign_in(client, other_owner)
    link = invite(client, email="theirs@example.test")
    invitation = db.scalar(select(Invitation).where(Invitation.email == "theirs@example.test"))
    client = app.test_client()
    sign_in(client, owner)
    assert client.post(f"/company/invitations/{invitation.id}/revoke").status_code == 404
    assert app.test_client().get(link).status_code == 200


def test_invitation_from_an_admin_who_was_deactivated_since_cannot_be_accepted(app, f, db):
    owner, link, co_client = invited_by_one_of_two_admins(app, f, "orphan@example.test")
    assert "orphan@example.test" in co_client.get("/company/users").text
    assert co_client.post(f"/company/users/{owner.id}/deactivate").status_code == 302
    invitee = app.test_client()
    page = invitee.get(link)
    assert page.status_code == 404 and "This invitation link is not valid any more." in page.text
    response = invitee.post(link, data={"name": "Orphan", "password": "my own passphrase",
                                        "confirm": "my own passphrase"})
    assert response.status_code == 404
    assert db.scalar(select(User).where(User.email == "orphan@example.test")) is None
    # It is no longer listed as open, and does not stop a new invitation for the email.
    assert "/revoke" not in co_client.get("/company/users").text
    invite(co_client, email="orphan@example.test")


def test_invitation_links_are_built_from_public_url_not_the_host_header(make_app, f):
    app = make_app(PUBLIC_URL="https://portal.example.test")
    owner = f.user(role="partner_admin")
    client = app.test_client()
    evil = "http://evil.example"  # every request names this host, as an attacker's would
    assert client.post("/login", data={"email": owner.email, "password": PASSWORD},
                       base_url=evil).status_code == 302
    posted = client.post("/company/users", data={"email": "new@example.test", "role": "buyer"}, base_url=evil)
    assert posted.status_code == 302
    page = client.get("/company/users", base_url=evil)
    assert "https://portal.example.test/invitations/" in page.text and "evil.example" not in page.text
