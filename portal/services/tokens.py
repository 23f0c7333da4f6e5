"""Bearer tokens for the JSON API (stored as SHA-256, expiring, revocable)."""
from __future__ import annotations

import secrets
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.models import ApiToken, Partner, User, utc_now
from portal.services import audit, passwords
from portal.services.auth import find_user_by_email, hash_token
from portal.services.errors import AuthError


def issue(
    session: Session, email: str, password: str, *, lifetime: timedelta, ip: str | None = None
) -> tuple[str, ApiToken]:
    """Exchange credentials for a new token; failures are audited like web logins."""
    user = find_user_by_email(session, email)
    ok = passwords.verify_password(user.password_hash if user else None, password)
    if not ok or not user.active or (user.partner is not None and not user.partner.is_active):
        audit.record(session, "token_denied", actor_id=user.id if user else None, ip=ip,
                     email=email.strip().lower()[:254])
        session.commit()
        raise AuthError(_("Invalid email or password."))
    token = secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, token_hash=hash_token(token),
                   expires_at=utc_now() + lifetime)
    session.add(row)
    session.flush()
    audit.record(session, "token_issued", actor_id=user.id, target=row,
                 partner_id=user.partner_id, ip=ip)
    session.commit()
    return token, row


def user_for(session: Session, token: str) -> User | None:
    """The active user behind a live token, or None."""
    # One query for token, user and partner (this runs on every API call); the partner lands in
    # the identity map, so user.partner needs no second query.
    row = session.execute(
        select(ApiToken.revoked_at, ApiToken.expires_at, User, Partner)
        .join(User, User.id == ApiToken.user_id)
        .outerjoin(Partner, Partner.id == User.partner_id)
        .where(ApiToken.token_hash == hash_token(token))
    ).first()
    if row is None or row.revoked_at is not None or row.expires_at <= utc_now():
        return None
    user = row.User
    if not user.active or (user.partner is not None and not user.partner.is_active):
        return None
    return user


def revoke(session: Session, token: str) -> bool:
    """Revoke one token; True when it was live."""
    result = session.execute(
        update(ApiToken)
        .where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None))
        .values(revoked_at=utc_now())
    )
    session.commit()
    return result.rowcount == 1
