"""Invitations: a partner admin invites a colleague by email; the invitee chooses a password
and is signed in."""
from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import Select, and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, object_session

from portal.accounts import passwords
from portal.accounts.mail import QueueEmail
from portal.accounts.models import PARTNER_ROLES, Invitation, Partner, User
from portal.accounts.people import _valid_email
from portal.accounts.sessions import SessionPolicy, hash_token, open_session
from portal.core import audit
from portal.core.access import Actor
from portal.core.errors import Conflict, NotFound, ServiceError
from portal.core.types import utc_now


def invite_user(
    session: Session, inviter: Actor, *, email: str, name: str = "", role: str = "buyer",
    link_for: Callable[[str], str], queue_email: QueueEmail, locale: str = "en",
    valid_for: timedelta = timedelta(days=7), partner_id: int | None = None,
) -> tuple[Invitation, str]:
    """A partner admin invites a colleague, or staff invite a partner's first user (``partner_id``:
    an admin any partner, an account manager their own): the invitation is emailed (in
    ``locale``, the inviter's language) through the outbox; returns it and its one-time token."""
    company_id = _inviting_for(session, inviter, partner_id)
    if role not in PARTNER_ROLES:
        raise ServiceError(_("Unknown role %(role)s.", role=role), field="role")
    if inviter.partner_id != company_id and role != "partner_admin":  # staff: the administrator
        raise ServiceError(_("A partner's first user is its administrator."), field="role")
    email = _valid_email(email)
    # Only the inviter's own company is told that an email already has an account there: for
    # an account anywhere else (staff, another company) the answer is the same as for a new
    # email, so invitations reveal nothing outside the company. Such an invitation cannot be
    # accepted (accept_invitation refuses an email with an account), which only its owner sees.
    existing = session.scalar(select(User).where(User.email == email))
    if existing is not None and existing.partner_id == company_id:
        raise Conflict(_("%(email)s already has an account in your company.", email=email), field="email")
    open_here = _live_invitations().where(Invitation.email == email,
                                          Invitation.partner_id == company_id)
    if session.scalar(open_here.limit(1)):
        raise Conflict(_("An invitation for %(email)s is already open.", email=email), field="email")
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        partner_id=company_id, email=email, name=name.strip(), role=role,
        token_hash=hash_token(token), invited_by_id=inviter.user_id,
        expires_at=utc_now() + valid_for,
    )
    session.add(invitation)
    session.flush()
    sender = session.get(User, inviter.user_id)
    partner = session.get(Partner, company_id)
    queue_email(session, kind="invitation", subject_key=f"invitation:{invitation.id}",
                partner_id=company_id, payload={
                    "to": email, "locale": locale, "link": link_for(token),
                    "expires_at": invitation.expires_at.isoformat(),
                    "inviter": (sender.name or sender.email) if sender else "",
                    "partner_name": partner.name if partner else "",
                })
    audit.record(session, "user_invited", actor_id=inviter.user_id, target=invitation,
                 partner_id=company_id, email=email, role=role,
                 has_account_elsewhere=existing is not None)
    session.commit()
    return invitation, token


def _inviting_for(session: Session, inviter: Actor, partner_id: int | None) -> int:
    """The company the invitation is for, if the inviter may invite there."""
    own = inviter.partner_id is not None and partner_id in (None, inviter.partner_id)
    if inviter.role == "partner_admin" and own:
        return inviter.partner_id
    if partner_id is not None and inviter.role in ("admin", "account_manager"):
        # Staff invite only a company's *first* user (a converted referral's administrator):
        # after that its own administrators decide who works for it, so staff cannot give
        # themselves or anyone a login at a partner that already has people.
        partner = session.get(Partner, partner_id)
        if partner is not None and (inviter.role == "admin" or partner.account_manager_id == inviter.user_id):
            if session.scalar(select(User.id).where(User.partner_id == partner.id).limit(1)) is not None:
                raise ServiceError(_("%(partner)s has users already: its administrators invite their "
                                     "colleagues.", partner=partner.name), field="email")
            if session.scalar(_live_invitations().where(Invitation.partner_id == partner.id).limit(1)):
                raise Conflict(_("%(partner)s's first user is invited already: revoke that invitation "
                                 "to invite someone else.", partner=partner.name), field="email")
            return partner.id
        if partner is not None:
            raise ServiceError(_("Only the partner's account manager or an administrator can invite "
                                 "its first user."), field="email")
    raise ServiceError(_("Only a partner administrator can invite users."))


def _inviter_may_still_invite(invitation: Invitation) -> bool:
    inviter = invitation.invited_by
    if inviter is None or not inviter.active:
        return False
    if inviter.role == "partner_admin":
        return inviter.partner_id == invitation.partner_id
    # staff who invited a partner's first user (converting a referral): only while the partner
    # still has nobody, so an older staff invitation cannot add a login beside the first user
    session = object_session(invitation)
    if session is not None and session.scalar(
            select(User.id).where(User.partner_id == invitation.partner_id).limit(1)) is not None:
        return False
    return inviter.role == "admin" or (
        inviter.role == "account_manager" and invitation.partner.account_manager_id == inviter.id)


def find_invitation(session: Session, token: str) -> Invitation:
    """The open invitation behind a token; NotFound when used, revoked, expired or orphaned.

    An invitation is only as good as its inviter: once they are deactivated (or no longer
    an administrator of the company) it cannot be accepted.
    """
    invitation = session.scalar(
        select(Invitation).where(Invitation.token_hash == hash_token(token))
    )
    if (
        invitation is None
        or invitation.accepted_at is not None
        or invitation.revoked_at is not None
        or invitation.expires_at <= utc_now()
        or not invitation.partner.is_active
        or not _inviter_may_still_invite(invitation)
    ):
        raise NotFound(_("This invitation link is not valid any more. Ask for a new one."))
    return invitation


def accept_invitation(
    session: Session, token: str, *, password: str, name: str = "", locale: str | None = None,
    ip: str | None = None, user_agent: str | None = None, policy: SessionPolicy | None = None,
) -> tuple[User, str]:
    """The invitee sets a password and is signed in: the invitation is spent, the user made (in
    the language they accepted in) and a session opened; returns the user and the session token."""
    invitation = find_invitation(session, token)
    passwords.check_policy(password, email=invitation.email, name=name or invitation.name)
    email = invitation.email
    if session.scalar(select(User.id).where(User.email == email)):
        # Someone made an account for this email after the invitation was sent.
        raise Conflict(_("There is already an account for %(email)s: sign in with it instead.",
                         email=email))
    password_hash = passwords.hash_password(password)  # slow: before the invitation's row lock
    now = utc_now()
    # Compare and set: of several simultaneous accepts only one finds the invitation still open.
    spent = session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None),
               Invitation.revoked_at.is_(None))
        .values(accepted_at=now)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:
        session.rollback()
        raise NotFound(_("This invitation link is not valid any more. Ask for a new one."))
    user = User(email=email, name=(name or invitation.name).strip(), role=invitation.role,
                partner_id=invitation.partner_id, password_hash=password_hash,
                locale=locale or "en", last_login_at=now)
    session.add(user)
    try:
        session.flush()
    except IntegrityError:  # an account for this email was made at the same moment
        session.rollback()
        raise Conflict(_("There is already an account for %(email)s: sign in with it instead.",
                         email=email)) from None
    token = open_session(session, user, ip=ip, user_agent=user_agent,
                         policy=policy or SessionPolicy(), now=now)
    audit.record(session, "invitation_accepted", actor_id=user.id, target=user,
                 partner_id=user.partner_id)
    audit.record(session, "login", actor_id=user.id, partner_id=user.partner_id, ip=ip)
    session.commit()
    user.session_token = token
    return user, token


def get_open_invitation(session: Session, actor: Actor, invitation_id: int) -> Invitation:
    """An open invitation of the partner admin's company (for its withdrawal's confirmation);
    another company's is NotFound, marked foreign."""
    invitation = session.get(Invitation, invitation_id)
    if (
        invitation is None or actor.role != "partner_admin"
        or invitation.partner_id != actor.partner_id
        or invitation.accepted_at is not None or invitation.revoked_at is not None
    ):
        # Another company's invitation is answered like a missing one, but audited as an attempt.
        foreign = invitation is not None and invitation.partner_id != actor.partner_id
        raise NotFound(_("No such open invitation."), foreign=foreign)
    return invitation


def revoke_invitation(session: Session, actor: Actor, invitation_id: int) -> Invitation:
    """A partner admin withdraws an invitation of their company that is not yet accepted."""
    invitation = get_open_invitation(session, actor, invitation_id)
    invitation.revoked_at = utc_now()
    audit.record(session, "invitation_revoked", actor_id=actor.user_id, target=invitation,
                 partner_id=invitation.partner_id, ip=actor.ip, email=invitation.email)
    session.commit()
    return invitation


def _live_invitations() -> Select:
    """Invitations that can still be accepted (the query form of find_invitation's checks)."""
    inviter = aliased(User)
    return (
        select(Invitation)
        .join(Partner, Partner.id == Invitation.partner_id)
        .join(inviter, inviter.id == Invitation.invited_by_id)
        .where(
            Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None),
            Invitation.expires_at > utc_now(), Partner.status == "active",
            inviter.active.is_(True),
            or_(and_(inviter.role == "partner_admin", inviter.partner_id == Invitation.partner_id),
                and_(or_(inviter.role == "admin",
                         and_(inviter.role == "account_manager", Partner.account_manager_id == inviter.id)),
                     ~select(User.id).where(User.partner_id == Invitation.partner_id).exists())),
        )
    )


def open_invitations(session: Session, partner_id: int) -> list[Invitation]:
    return list(session.scalars(
        _live_invitations().where(Invitation.partner_id == partner_id)
        .order_by(Invitation.created_at.desc())
    ))
