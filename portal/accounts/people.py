"""Partners and users (invitations: invitations.py; forgotten passwords: resets.py)."""
from __future__ import annotations

import re
from collections.abc import Sequence

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

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
    normalize_email,
    revoke_api_tokens,
    revoke_partner_access,
    revoke_sessions,
)
from portal.core import audit
from portal.core.access import SYSTEM, Actor
from portal.core.errors import Conflict, NotFound, ServiceError
from portal.core.labels import label
from portal.core.paging import Page, paginate
from portal.core.text import contains
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
    manager_email: str | None = None, actor: Actor = SYSTEM, commit: bool = True,
) -> Partner:
    """Create a partner company (``commit=False``: in the caller's transaction, e.g. converting
    a referral, which commits both together)."""
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
    try:
        session.flush()
    except IntegrityError:  # the same code, taken a moment ago by a concurrent transaction?
        session.rollback()  # (the caller's work in this transaction goes too: it is one step)
        if session.scalar(select(Partner.id).where(Partner.code == code)) is None:
            raise  # some other constraint: not the partner's code
        raise Conflict(_("A partner with code %(code)s already exists.", code=code), field="code") from None
    audit.record(session, "partner_created", actor_id=actor.user_id, target=partner,
                 partner_id=partner.id, code=code)
    if commit:
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
            raise ServiceError(_("A %(role)s needs a partner.", role=label(role)), field="partner")
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


def get_user_for(session: Session, actor: Actor, user_id: int) -> User:
    """A user the actor manages: any user for an admin, their own company's for a partner admin;
    another company's user is NotFound, marked foreign."""
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
    return user


def set_user_active(session: Session, actor: Actor, user_id: int, active: bool) -> User:
    """Deactivate (ending their sessions and API tokens at once) or reactivate a user."""
    user = get_user_for(session, actor, user_id)
    if user.id == actor.user_id:
        raise ServiceError(_("You cannot deactivate yourself."))
    if user.active == active:
        raise ServiceError(_("%(email)s can sign in already.", email=user.email) if active
                           else _("%(email)s is deactivated already.", email=user.email))
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


def set_locale(session: Session, user: User, locale: str, *, languages: Sequence[str]) -> bool:
    """Keep the user's language (English or Polish) for every page and email; True if changed."""
    if locale not in languages:
        raise ServiceError(_("Choose one of the languages offered."), field="locale")
    if user.locale == locale:
        return False
    previous, user.locale = user.locale, locale
    audit.record(session, "locale_changed", actor_id=user.id, target=user,
                 partner_id=user.partner_id, previous=previous, locale=locale)
    session.commit()
    return True


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


__all__ = ["STAFF_ROLES"]


def tier_names(session: Session) -> list[str]:
    """The price tiers a new partner can be put in, by name."""
    return list(session.scalars(select(PriceTier.name).order_by(PriceTier.name)))


def account_managers(session: Session) -> list[User]:
    """The staff who can look after partners."""
    return list(session.scalars(select(User).where(User.role == "account_manager").order_by(User.email)))


USERS_PER_PAGE = 25


def find_users(
    session: Session, *, q: str = "", role: str = "", active: str = "", page: int = 1,
    per_page: int = USERS_PER_PAGE,
) -> Page:
    """One page of users (with their partner's code and name, None for staff), staff roles
    first; ``q`` searches name, email and the partner's code and name, ``role`` and ``active``
    ("yes"/"no") filter."""
    stmt = (select(User, Partner.code, Partner.name)
            .outerjoin(Partner, User.partner_id == Partner.id)
            .order_by(User.role, User.email, User.id))
    condition = contains(q, User.name, User.email, Partner.code, Partner.name)
    if condition is not None:
        stmt = stmt.where(condition)
    if role in ROLES:
        stmt = stmt.where(User.role == role)
    if active in ("yes", "no"):
        stmt = stmt.where(User.active.is_(active == "yes"))
    return paginate(session, stmt, page=page, per_page=per_page, scalars=False)
