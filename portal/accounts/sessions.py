"""Sign-in, server-side sessions, logout and password changes."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session, joinedload

from portal.accounts import passwords
from portal.accounts.models import ApiToken, User, UserSession
from portal.core import access, audit
from portal.core.errors import AuthError, ServiceError
from portal.core.text import normalize_email
from portal.core.types import utc_now


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta = timedelta(minutes=120)
    absolute: timedelta = timedelta(hours=12)
    touch_every: timedelta = timedelta(minutes=1)


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalize_email(email)))


def open_session(
    session: Session, user: User, *, ip: str | None, user_agent: str | None,
    policy: SessionPolicy, now: datetime,
) -> str:
    """Open a server-side session for the user and return its token (helper, no commit)."""
    token = secrets.token_urlsafe(32)
    session.add(UserSession(
        user_id=user.id, token_hash=hash_token(token), created_at=now, last_seen_at=now,
        expires_at=now + policy.absolute, ip=ip, user_agent=(user_agent or "")[:300],
    ))
    return token


def login(
    session: Session, email: str, password: str, *, ip: str | None = None,
    user_agent: str | None = None, policy: SessionPolicy = SessionPolicy(),
) -> tuple[User, str]:
    """Check the credentials and open a server-side session; every attempt is audited."""
    now = utc_now()
    user = find_user_by_email(session, email)
    ok = passwords.verify_password(user.password_hash if user else None, password)
    reason = None
    if not ok:
        reason = "bad_credentials"
    else:
        reason = may_sign_in(user)
    if reason:
        audit.record(
            session, "login_failed", actor_id=user.id if user else None, ip=ip,
            partner_id=user.partner_id if user else None,
            email=normalize_email(email)[:254], reason=reason,
        )
        session.commit()
        raise AuthError(_("Invalid email or password."))
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.last_login_at = now
    token = open_session(session, user, ip=ip, user_agent=user_agent, policy=policy, now=now)
    audit.record(session, "login", actor_id=user.id, partner_id=user.partner_id, ip=ip)
    session.commit()
    user.session_token = token
    return user, token


def may_sign_in(user: User) -> str | None:
    """Why this user may not sign in or keep a session (None: they may); the rule is core.access's."""
    return access.may_sign_in(user_active=user.active,
                              partner_status=user.partner.status if user.partner is not None else None)


# One query for session, user and partner. It runs on every page, so it is built once: building
# it (the loader options and their cache key) cost more than running it.
_SESSION_USER = (select(UserSession).options(joinedload(UserSession.user).joinedload(User.partner))
                 .where(UserSession.token_hash == bindparam("token_hash")))


def load_user(session: Session, token: str, *, policy: SessionPolicy = SessionPolicy()) -> User | None:
    """The user behind a live session token, or None when it is revoked, expired or disabled."""
    now = utc_now()
    row = session.scalar(_SESSION_USER, {"token_hash": hash_token(token)})
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    if now - row.last_seen_at > policy.idle:
        return None
    user = row.user
    if may_sign_in(user) is not None:
        return None
    if now - row.last_seen_at > policy.touch_every:
        # Sliding idle timeout: a small write at most once a minute per session.
        row.last_seen_at = now
        session.commit()
    user.session_token = token
    return user


def _revoke_sessions(session: Session, users, *, keep_token: str | None = None) -> int:
    stmt = (
        update(UserSession)
        .where(UserSession.user_id.in_(users), UserSession.revoked_at.is_(None))
        .values(revoked_at=utc_now())
    )
    if keep_token:
        stmt = stmt.where(UserSession.token_hash != hash_token(keep_token))
    return session.execute(stmt).rowcount


def _revoke_tokens(session: Session, users) -> int:
    now = utc_now()
    return session.execute(
        update(ApiToken)
        .where(ApiToken.user_id.in_(users), ApiToken.revoked_at.is_(None), ApiToken.expires_at > now)
        .values(revoked_at=now)
    ).rowcount


def revoke_sessions(session: Session, user_id: int, *, keep_token: str | None = None) -> int:
    """Revoke the user's live sessions (helper, no commit); returns how many."""
    return _revoke_sessions(session, [user_id], keep_token=keep_token)


def revoke_api_tokens(session: Session, user_id: int) -> int:
    """Revoke the user's live API tokens (helper, no commit); returns how many."""
    return _revoke_tokens(session, [user_id])


def revoke_partner_access(session: Session, partner_id: int) -> tuple[int, int]:
    """Revoke the live sessions and API tokens of every user of a partner (helper, no commit).

    Returns how many sessions and how many tokens were revoked.
    """
    users = select(User.id).where(User.partner_id == partner_id).scalar_subquery()
    return _revoke_sessions(session, users), _revoke_tokens(session, users)


def logout(session: Session, token: str | None, *, ip: str | None = None) -> None:
    """End one session on the server, so its cookie is worthless from now on."""
    if not token:
        return
    row = session.scalar(select(UserSession).where(UserSession.token_hash == hash_token(token)))
    if row is not None and row.revoked_at is None:
        row.revoked_at = utc_now()
        audit.record(session, "logout", actor_id=row.user_id, ip=ip)
        session.commit()


def change_password(
    session: Session, user: User, current: str, new: str, *, ip: str | None = None
) -> None:
    """Change the user's own password; end every other session and every API token of theirs."""
    if not passwords.verify_password(user.password_hash, current):
        raise AuthError(_("The current password is not correct."), field="current_password")
    passwords.check_policy(new, email=user.email, name=user.name)
    if current == new:
        raise ServiceError(_("Choose a password different from the current one."), field="password")
    user.password_hash = passwords.hash_password(new)
    ended = revoke_sessions(session, user.id, keep_token=user.session_token)
    tokens_revoked = revoke_api_tokens(session, user.id)
    audit.record(session, "password_changed", actor_id=user.id, target=user,
                 partner_id=user.partner_id, ip=ip, other_sessions_ended=ended,
                 api_tokens_revoked=tokens_revoked)
    session.commit()
