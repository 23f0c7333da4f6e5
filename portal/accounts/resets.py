"""Forgotten passwords: a single-use, expiring link by email, and setting a new password with it."""
from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from portal.accounts import passwords
from portal.accounts.mail import QueueEmail
from portal.accounts.models import PasswordReset, User
from portal.accounts.sessions import (
    find_user_by_email,
    hash_token,
    may_sign_in,
    revoke_api_tokens,
    revoke_sessions,
)
from portal.core import audit
from portal.core.errors import NotFound
from portal.core.text import normalize_email
from portal.core.types import utc_now

RESET_LIFETIME = timedelta(hours=1)


def _invalid() -> NotFound:
    return NotFound(_("This link to set a new password is not valid any more. Ask for a new one."))


def request_reset(
    session: Session, email: str, *, link_for: Callable[[str], str], queue_email: QueueEmail,
    valid_for: timedelta = RESET_LIFETIME,
) -> None:
    """Email a link to set a new password when the address belongs to someone who may sign in.

    The caller learns nothing: the same None whether or not the email has an account, and the
    same work (a token made and hashed, the lookup, an audit event, a commit) either way. A new
    request revokes the user's earlier open links, so only the latest one works.
    """
    now = utc_now()
    token = secrets.token_urlsafe(32)
    token_hash = hash_token(token)
    email = normalize_email(email)[:254]
    user = find_user_by_email(session, email)
    refused = "unknown_email" if user is None else may_sign_in(user)
    if refused is None:
        earlier = _revoke_open(session, user.id)
        reset = PasswordReset(user_id=user.id, token_hash=token_hash, created_at=now,
                              expires_at=now + valid_for, ip=audit.client_address.get())
        session.add(reset)
        session.flush()
        queue_email(session, kind="password_reset", subject_key=f"password_reset:{reset.id}",
                    user_id=user.id, partner_id=user.partner_id,
                    payload={"link": link_for(token), "expires_at": reset.expires_at.isoformat()})
        audit.record(session, "password_reset_requested", actor_id=user.id, target=reset,
                     partner_id=user.partner_id, email=email, sent=True, earlier_links_revoked=earlier)
    else:
        audit.record(session, "password_reset_requested", actor_id=user.id if user else None,
                     partner_id=user.partner_id if user else None, email=email, sent=False,
                     reason=refused)
    session.commit()


def _revoke_open(session: Session, user_id: int) -> int:
    return session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user_id, PasswordReset.used_at.is_(None),
               PasswordReset.revoked_at.is_(None))
        .values(revoked_at=utc_now())
        .execution_options(synchronize_session=False)
    ).rowcount


def _why_invalid(reset: PasswordReset | None) -> str | None:
    if reset is None:
        return "unknown_token"
    if reset.used_at is not None:
        return "used"
    if reset.revoked_at is not None:
        return "superseded"
    if reset.expires_at <= utc_now():
        return "expired"
    return may_sign_in(reset.user)


def find_reset(session: Session, token: str) -> PasswordReset:
    """The open reset behind a link; NotFound (audited as a failure) when used, superseded,
    expired, unknown, or its user may no longer sign in."""
    reset = session.scalar(
        select(PasswordReset).options(joinedload(PasswordReset.user).joinedload(User.partner))
        .where(PasswordReset.token_hash == hash_token(token))
    )
    reason = _why_invalid(reset)
    if reason is not None:
        _fail(session, reset, reason)
    return reset


def _fail(session: Session, reset: PasswordReset | None, reason: str):
    user = reset.user if reset is not None else None
    session.rollback()
    audit.record(session, "password_reset_failed", actor_id=user.id if user else None,
                 partner_id=user.partner_id if user else None, reason=reason)
    session.commit()
    raise _invalid()


def reset_password(session: Session, token: str, password: str) -> User:
    """Set a new password with a reset link; the link is spent, and every session and API token
    of the user ends (whoever asked for the reset may have been signed in elsewhere)."""
    reset = find_reset(session, token)
    user = reset.user
    passwords.check_policy(password, email=user.email, name=user.name)
    password_hash = passwords.hash_password(password)  # slow: before the compare-and-set
    now = utc_now()
    spent = session.execute(
        update(PasswordReset)
        .where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None),
               PasswordReset.revoked_at.is_(None), PasswordReset.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:  # used (or superseded) by a request that got there first
        _fail(session, reset, "used")
    user.password_hash = password_hash
    sessions_ended = revoke_sessions(session, user.id)
    tokens_revoked = revoke_api_tokens(session, user.id)
    audit.record(session, "password_reset", actor_id=user.id, target=user,
                 partner_id=user.partner_id, sessions_ended=sessions_ended,
                 api_tokens_revoked=tokens_revoked)
    session.commit()
    return user
