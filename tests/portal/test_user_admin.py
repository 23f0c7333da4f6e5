"""Managing users: the admin's paged, searchable list; confirmation before deactivating or
withdrawing; invitations emailed through the outbox and the invitee signed in on accepting."""
from __future__ import annotations

import re

from sqlalchemy import select

from portal.models import AuditEvent, Invitation, Notification, User
from portal.notifications import outbox
from tests.portal.helpers import sign_in
from tests.portal.test_notifications import FakeMailer
from tests.portal.test_people import invite


def admin_client(app, f):
    admin = f.user(role="admin", name="Ada Admin")
    client = app.test_client()
    sign_in(client, admin)
    return admin, client


def emails_on(page: str) -> list[str]:
    return re.findall(r'data-label="Email">([^<]+)</td>', page)


# --- the admin's users list ---------------------------------------------------------------------

def test_admin_users_are_paged_25_at_a_time_with_page_numbers(app, f):
    _admin, client = admin_client(app, f)
    partner = f.partner()
    for n in range(59):
        f.user(partner=partner, email=f"buyer{n:02d}@paged.test")
    first = client.get("/admin/users").text
    assert len(emails_on(first)) == 25 and "60 users" in first
    assert 'class="pager"' in first and "Page 1 of 3" in first
    last = client.get("/admin/users?page=3").text
    assert len(emails_on(last)) == 10
    assert client.get("/admin/users?page=99").status_code == 200  # the last page, not an error


def test_admin_searches_by_name_email_partner_code_or_name(app, f):
    _admin, client = admin_client(app, f)
    shop = f.partner(name="Zielony Koszyk", code="ZK01")
    f.user(partner=shop, email="kasia@zk.test", name="Kasia Nowak")
    f.user(email="other@else.test", name="Someone Else")
    for query in ("nowak", "KASIA@", "zk01", "zielony"):
        assert emails_on(client.get(f"/admin/users?q={query}").text) == ["kasia@zk.test"], query
    page = client.get("/admin/users?q=nobody-at-all").text
    assert "No user matches these filters." in page and 'href="/admin/users"' in page


def test_admin_filters_by_role_and_active_and_the_pager_keeps_them(app, f):
    _admin, client = admin_client(app, f)
    partner = f.partner()
    for n in range(30):
        f.user(partner=partner, email=f"b{n:02d}@filter.test", active=n % 2 == 0)
    f.user(role="account_manager", email="manager@filter.test")
    assert emails_on(client.get("/admin/users?role=account_manager").text) == ["manager@filter.test"]
    inactive = client.get("/admin/users?role=buyer&active=no").text
    assert "15 users" in inactive and all(int(e[1:3]) % 2 == 1 for e in emails_on(inactive))
    active_buyers = client.get("/admin/users?role=buyer&active=yes").text
    assert "15 users" in active_buyers
    many = client.get("/admin/users?q=filter.test&role=buyer").text
    assert "page=2" in many and "role=buyer" in many.split('class="pager"', 1)[1]
    # Values that are not choices are ignored, never a 500.
    assert client.get("/admin/users?role=emperor&active=maybe&page=x").status_code == 200


def test_admin_users_show_the_name_and_partner(app, f):
    _admin, client = admin_client(app, f)
    partner = f.partner(name="Sklep Pod Lipą", code="SPL1")
    f.user(partner=partner, name="Jan Lipski", email="jan@spl.test")
    page = client.get("/admin/users?q=jan@spl.test").text
    assert "Jan Lipski" in page and "SPL1" in page and "Sklep Pod Lipą" in page
    assert 'aria-label="Deactivate Jan Lipski"' in page


def test_the_create_user_form_stays_open_with_its_errors(app, f):
    _admin, client = admin_client(app, f)
    response = client.post("/admin/users", data={"email": "new@example.test", "role": "buyer",
                                                 "password": "quiet orchard lantern"})
    assert response.status_code == 422
    assert "<details open>" in response.text and "needs a partner" in response.text
    assert "<details open>" not in client.get("/admin/users").text


def test_only_admins_see_the_users_list(app, f):
    for role in ("buyer", "partner_admin", "account_manager"):
        client = app.test_client()
        sign_in(client, f.user(role=role))
        assert client.get("/admin/users").status_code == 403, role
        assert client.get(f"/admin/users/{f.user().id}/deactivate").status_code == 403, role


# --- deactivating and withdrawing ask first -----------------------------------------------------

def test_admin_deactivation_asks_first_on_a_page_that_works_without_javascript(app, f, db):
    _admin, client = admin_client(app, f)
    user = f.user(name="Piotr Zieliński")
    listing = client.get(f"/admin/users?q={user.email}").text
    assert f'href="/admin/users/{user.id}/deactivate?q=' in listing and "data-confirm=" in listing
    asked = client.get(f"/admin/users/{user.id}/deactivate?q={user.email}")
    assert asked.status_code == 200 and "Deactivate Piotr Zieliński?" in asked.text
    assert 'class="danger"' in asked.text and "Keep them active" in asked.text
    db.expire_all()
    assert db.get(User, user.id).active  # asking changed nothing
    done = client.post(f"/admin/users/{user.id}/deactivate?q={user.email}")
    assert done.status_code == 302 and done.headers["Location"] == f"/admin/users?q={user.email}"
    db.expire_all()
    assert not db.get(User, user.id).active
    assert client.get(f"/admin/users/{user.id}/deactivate").status_code == 302  # already: back to the list
    assert client.get("/admin/users/999999/deactivate").status_code == 404


def test_an_admin_cannot_be_asked_to_deactivate_themselves(app, f):
    admin, client = admin_client(app, f)
    assert client.get(f"/admin/users/{admin.id}/deactivate").status_code == 302
    assert client.post(f"/admin/users/{admin.id}/deactivate").status_code == 302
    assert sign_in(app.test_client(), admin).status_code == 302


def test_partner_admin_deactivation_and_withdrawal_ask_first(app, f, db):
    owner = f.user(role="partner_admin")
    colleague = f.user(partner=owner.partner, name="Ewa Malinowska")
    client = app.test_client()
    sign_in(client, owner)
    invite(client, email="later@example.test")
    page = client.get("/company/users").text
    assert 'aria-label="Deactivate Ewa Malinowska"' in page
    assert 'aria-label="Withdraw the invitation for later@example.test"' in page
    asked = client.get(f"/company/users/{colleague.id}/deactivate")
    assert asked.status_code == 200 and "Deactivate Ewa Malinowska?" in asked.text
    invitation = db.scalar(select(Invitation))
    withdraw = client.get(f"/company/invitations/{invitation.id}/revoke")
    assert withdraw.status_code == 200 and "Withdraw the invitation for later@example.test?" in withdraw.text
    db.expire_all()
    assert db.get(User, colleague.id).active and db.get(Invitation, invitation.id).revoked_at is None
    assert client.post(f"/company/invitations/{invitation.id}/revoke").status_code == 302
    db.expire_all()
    assert db.get(Invitation, invitation.id).revoked_at is not None
    assert client.get(f"/company/invitations/{invitation.id}/revoke").status_code == 404  # gone
    assert "No invitation is waiting" in client.get("/company/users").text


# --- invitations by email ---------------------------------------------------------------------

def test_an_invitation_is_emailed_in_the_inviters_language_and_the_link_shown_to_copy(app, f, db):
    owner = f.user(role="partner_admin", name="Olga Owner", locale="pl")
    client = app.test_client()
    sign_in(client, owner)
    link = invite(client, email="new.colleague@example.test")
    page = client.get("/company/users").text  # shown once, after the redirect
    assert 'id="invite-link"' not in page
    [notification] = db.scalars(select(Notification)).all()
    assert notification.kind == "invitation" and notification.payload["to"] == "new.colleague@example.test"
    mailer = FakeMailer()
    db.commit()  # end the test session's read, as test_password_reset.delivered explains
    with app.app_context():
        outbox.send_pending(db, mailer=mailer)
    [(to, subject, body)] = mailer.sent
    assert to == ["new.colleague@example.test"]
    assert "Olga Owner" in subject and owner.partner.name in subject
    assert "http://127.0.0.1:5000" + link in body and "Dzień dobry" in body
    db.expire_all()
    assert "link" not in db.get(Notification, notification.id).payload


def test_the_invitation_page_has_a_copy_button_for_the_link(app, f):
    owner = f.user(role="partner_admin")
    client = app.test_client()
    sign_in(client, owner)
    response = client.post("/company/users", data={"email": "copy@example.test", "role": "buyer"},
                           follow_redirects=True)
    assert '<code class="link" id="invite-link">http://127.0.0.1:5000/invitations/' in response.text
    assert 'data-copy="#invite-link"' in response.text and 'data-copied="Copied"' in response.text
    assert "Invitation emailed to copy@example.test" in response.text


def test_accepting_an_invitation_signs_the_invitee_in(app, f, db):
    owner = f.user(role="partner_admin")
    client = app.test_client()
    sign_in(client, owner)
    link = invite(client, email="joined@example.test")
    invitee = app.test_client()
    response = invitee.post(link, data={"name": "Joined Person", "password": "my own passphrase",
                                        "confirm": "my own passphrase"},
                            headers={"Accept-Language": "pl"})
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard"
    dashboard = invitee.get("/dashboard")
    assert dashboard.status_code == 200 and "Witamy w" in dashboard.text
    user = db.scalar(select(User).where(User.email == "joined@example.test"))
    assert user.locale == "pl"  # accepted in Polish: the portal keeps speaking it
    actions = {e.action for e in db.scalars(select(AuditEvent).where(AuditEvent.actor_id == user.id))}
    assert {"invitation_accepted", "login"} <= actions
