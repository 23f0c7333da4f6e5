"""Partners, users and invitations."""
from __future__ import annotations

import re
import secrets
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from portal.accounts import passwords
from portal.accounts.models import (
    PARTNER_ROLES,
    PARTNER_STATUSES,
    ROLES,
    STAFF_ROLES,
    Invitation,
    Partner,
    PriceTier,
    User,
)
from portal.accounts.sessions import (
    hash_token,
    normalize_email,
    revoke_api_tokens,
    revoke_partner_access,
    revoke_sessions,
)
from portal.core import audit
from portal.core.access import SYSTEM, Actor
from portal.core.errors import Conflict, NotFound, ServiceError
from portal.core.labels import label
from portal.core.types import utc_now

CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,39}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _valid_email(email: str) -> str:
    email = normalize_email(email)
    if not EMAIL_RE.match(email) or len(email) > 254:
        raise ServiceError(_("Enter a valid email address."), field="email")
    return email


def _check_email(session: Session, email: str) -> str:
    email = _valid_email(email)
    if session.scalar(select(func.count()).select_from(User).where(User.email == email)):
        raise Conflict(_("A user with this email already exists."), field="email")
    return email


def create_partner(
    session: Session, *, name: str, code: str, tier_name: str | None = None,
    manager_email: str | None = None, actor: Actor = SYSTEM,
) -> Partner:
    """Create a partner company."""
    code = code.strip().upper()
    name = name.strip()
    if not name:
        raise ServiceError(_("Enter the company name."), field="name")
    if not CODE_RE.match(code):
        raise ServiceError(
            _("The code uses 2–40 letters, digits, '-' or '_'."), field="code"
        )
    if session.scalar(select(Partner.id).where(Partner.code == code)):
        raise Conflict(_("A partner with code %(code)s already exists.", code=code), field="code")
    partner = Partner(name=name, code=code)
    if tier_name:
        tier = session.scalar(select(PriceTier).where(PriceTier.name == tier_name))
        if tier is None:
            raise NotFound(_("No price tier named %(name)s.", name=tier_name), field="tier")
        partner.price_tier = tier
    if manager_email:
        manager = session.scalar(select(User).where(User.email == normalize_email(manager_email)))
        if manager is None or manager.role != "account_manager":
            raise NotFound(_("No account manager with that email."), field="manager")
        partner.account_manager_id = manager.id
    session.add(partner)
    session.flush()
    audit.record(session, "partner_created", actor_id=actor.user_id, target=partner,
                 partner_id=partner.id, code=code)
    session.commit()
    return partner


def set_partner_status(
    session: Session, *, code: str, status: str, actor: Actor = SYSTEM,
) -> Partner:
    """Make a partner active, paused or churned; leaving active signs its users out at once."""
    if status not in PARTNER_STATUSES:
        raise ServiceError(_("Unknown partner status %(status)s.", status=status), field="status")
    partner = session.scalar(select(Partner).where(Partner.code == code.strip().upper()))
    if partner is None:
        raise NotFound(_("No partner with code %(code)s.", code=code), field="code")
    if partner.status == status:
        raise ServiceError(_("%(code)s is %(status)s already.", code=partner.code,
                             status=label(status)), field="status")
    previous, partner.status = partner.status, status
    sessions = tokens = invitations = 0
    if status != "active":
        # Revoked, not only refused while inactive: making the partner active again must not
        # bring old cookies and tokens back.
        sessions, tokens = revoke_partner_access(session, partner.id)
        invitations = _revoke_open_invitations(session, Invitation.partner_id == partner.id)
    audit.record(session, "partner_status_changed", actor_id=actor.user_id, target=partner,
                 partner_id=partner.id, ip=actor.ip, previous=previous, status=status,
                 sessions_ended=sessions, api_tokens_revoked=tokens,
                 invitations_revoked=invitations)
    session.commit()
    return partner


def create_user(
    session: Session, *, email: str, password: str, role: str, name: str = "",
    partner_code: str | None = None, actor: Actor = SYSTEM,
) -> User:
    """Create a user: staff without a partner, partner users with one."""
    if role not in ROLES:
        raise ServiceError(_("Unknown role %(role)s.", role=role), field="role")
    email = _check_email(session, email)
    partner = None
    if role in PARTNER_ROLES:
        if not partner_code:
            raise ServiceError(_("A %(role)s needs a partner.", role=role), field="partner")
        partner = session.scalar(select(Partner).where(Partner.code == partner_code.upper()))
        if partner is None:
            raise NotFound(_("No partner with code %(code)s.", code=partner_code), field="partner")
    elif partner_code:
        raise ServiceError(_("Staff users do not belong to a partner."), field="partner")
    passwords.check_policy(password, email=email, name=name)
    user = User(email=email, name=name.strip(), role=role, partner=partner,
                password_hash=passwords.hash_password(password))
    session.add(user)
    session.flush()
    audit.record(session, "user_created", actor_id=actor.user_id, target=user,
                 partner_id=user.partner_id, role=role)
    session.commit()
    return user


def invite_user(
    session: Session, inviter: Actor, *, email: str, name: str = "", role: str = "buyer",
    valid_for: timedelta = timedelta(days=7),
) -> tuple[Invitation, str]:
    """A partner admin invites a colleague; returns the invitation and its one-time token."""
    if inviter.role != "partner_admin" or inviter.partner_id is None:
        raise ServiceError(_("Only a partner administrator can invite users."))
    if role not in PARTNER_ROLES:
        raise ServiceError(_("Unknown role %(role)s.", role=role), field="role")
    email = _valid_email(email)
    # Only the inviter's own company is told that an email already has an account there: for
    # an account anywhere else (staff, another company) the answer is the same as for a new
    # email, so invitations reveal nothing outside the company. Such an invitation cannot be
    # accepted (accept_invitation refuses an email with an account), which only its owner sees.
    existing = session.scalar(select(User).where(User.email == email))
    if existing is not None and existing.partner_id == inviter.partner_id:
        raise Conflict(_("%(email)s already has an account in your company.", email=email), field="email")
    open_here = _live_invitations().where(Invitation.email == email,
                                          Invitation.partner_id == inviter.partner_id)
    if session.scalar(open_here.limit(1)):
        raise Conflict(_("An invitation for %(email)s is already open.", email=email), field="email")
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        partner_id=inviter.partner_id, email=email, name=name.strip(), role=role,
        token_hash=hash_token(token), invited_by_id=inviter.user_id,
        expires_at=utc_now() + valid_for,
    )
    session.add(invitation)
    session.flush()
    audit.record(session, "user_invited", actor_id=inviter.user_id, target=invitation,
                 partner_id=inviter.partner_id, email=email, role=role,
                 has_account_elsewhere=existing is not None)
    session.commit()
    return invitation, token


def _inviter_may_still_invite(invitation: Invitation) -> bool:
    inviter = invitation.invited_by
    return (
        inviter is not None and inviter.active and inviter.role == "partner_admin"
        and inviter.partner_id == invitation.partner_id
    )


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


def accept_invitation(session: Session, token: str, *, password: str, name: str = "") -> User:
    """The invitee sets a password; the invitation is spent."""
    invitation = find_invitation(session, token)
    passwords.check_policy(password, email=invitation.email, name=name or invitation.name)
    email = invitation.email
    if session.scalar(select(User.id).where(User.email == email)):
        # Someone made an account for this email after the invitation was sent.
        raise Conflict(_("There is already an account for %(email)s: sign in with it instead.",
                         email=email))
    password_hash = passwords.hash_password(password)  # slow: before the invitation's row lock
    # Compare and set: of several simultaneous accepts only one finds the invitation still open.
    spent = session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None),
               Invitation.revoked_at.is_(None))
        .values(accepted_at=utc_now())
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:
        session.rollback()
        raise NotFound(_("This invitation link is not valid any more. Ask for a new one."))
    user = User(email=email, name=(name or invitation.name).strip(), role=invitation.role,
                partner_id=invitation.partner_id, password_hash=password_hash)
    session.add(user)
    try:
        session.flush()
    except IntegrityError:  # an account for this email was made at the same moment
        session.rollback()
        raise Conflict(_("There is already an account for %(email)s: sign in with it instead.",
                         email=email)) from None
    audit.record(session, "invitation_accepted", actor_id=user.id, target=user,
                 partner_id=user.partner_id)
    session.commit()
    return user


def revoke_invitation(session: Session, actor: Actor, invitation_id: int) -> Invitation:
    """A partner admin withdraws an invitation of their company that is not yet accepted."""
    invitation = session.get(Invitation, invitation_id)
    if (
        invitation is None or actor.role != "partner_admin"
        or invitation.partner_id != actor.partner_id
        or invitation.accepted_at is not None or invitation.revoked_at is not None
    ):
        # Another company's invitation is answered like a missing one, but audited as an attempt.
        foreign = invitation is not None and invitation.partner_id != actor.partner_id
        raise NotFound(_("No such open invitation."), foreign=foreign)
    invitation.revoked_at = utc_now()
    audit.record(session, "invitation_revoked", actor_id=actor.user_id, target=invitation,
                 partner_id=invitation.partner_id, ip=actor.ip, email=invitation.email)
    session.commit()
    return invitation


def set_user_active(session: Session, actor: Actor, user_id: int, active: bool) -> User:
    """Deactivate (ending their sessions and API tokens at once) or reactivate a user."""
    user = session.get(User, user_id)
    if actor.role == "admin":
        allowed = user is not None
    else:
        allowed = (
            user is not None and actor.role == "partner_admin"
            and user.partner_id == actor.partner_id
        )
    if not allowed:
        raise NotFound(_("No such user."), foreign=user is not None)
    if user.id == actor.user_id:
        raise ServiceError(_("You cannot deactivate yourself."))
    user.active = active
    detail = {}
    if not active:
        # Revoked, not just refused: reactivating the user later must not bring them back.
        detail = {"sessions_ended": revoke_sessions(session, user.id),
                  "api_tokens_revoked": revoke_api_tokens(session, user.id),
                  "invitations_revoked": _revoke_open_invitations(
                      session, Invitation.invited_by_id == user.id)}
    audit.record(session, "user_activated" if active else "user_deactivated", actor_id=actor.user_id,
                 target=user, partner_id=user.partner_id, **detail)
    session.commit()
    return user


def _revoke_open_invitations(session: Session, condition) -> int:
    """Revoke the open invitations matching ``condition`` (helper, no commit): an invitation of a
    deactivated inviter or an inactive partner must stay dead when they are reactivated."""
    return session.execute(
        update(Invitation)
        .where(condition, Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None))
        .values(revoked_at=utc_now())
    ).rowcount


def company_users(session: Session, partner_id: int) -> list[User]:
    return list(session.scalars(select(User).where(User.partner_id == partner_id).order_by(User.email)))


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
            inviter.active.is_(True), inviter.role == "partner_admin",
            inviter.partner_id == Invitation.partner_id,
        )
    )


def open_invitations(session: Session, partner_id: int) -> list[Invitation]:
    return list(session.scalars(
        _live_invitations().where(Invitation.partner_id == partner_id)
        .order_by(Invitation.created_at.desc())
    ))


__all__ = ["STAFF_ROLES"]


def tier_names(session: Session) -> list[str]:
    """The price tiers a new partner can be put in, by name."""
    return list(session.scalars(select(PriceTier.name).order_by(PriceTier.name)))


def account_managers(session: Session) -> list[User]:
    """The staff who can look after partners."""
    return list(session.scalars(select(User).where(User.role == "account_manager").order_by(User.email)))


def all_users(session: Session) -> list[tuple[User, str | None]]:
    """Every user with their partner's code (None for staff), staff roles first."""
    return [(user, code) for user, code in session.execute(
        select(User, Partner.code).outerjoin(Partner, User.partner_id == Partner.id).order_by(User.role, User.email)
    )]
