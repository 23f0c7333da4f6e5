"""Bearer tokens for the JSON API (stored as SHA-256, expiring, revocable)."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from portal.accounts import passwords
from portal.accounts.models import ApiToken, Partner, User
from portal.accounts.sessions import find_user_by_email, hash_token, may_sign_in
from portal.core import access, audit
from portal.core.errors import AuthError
from portal.core.text import normalize_email
from portal.core.types import utc_now


def issue(
    session: Session, email: str, password: str, *, lifetime: timedelta, ip: str | None = None
) -> tuple[str, ApiToken]:
    """Exchange credentials for a new token; failures are audited like web logins."""
    user = find_user_by_email(session, email)
    ok = passwords.verify_password(user.password_hash if user else None, password)
    if not ok or may_sign_in(user) is not None:
        audit.record(session, "token_denied", actor_id=user.id if user else None, ip=ip,
                     email=normalize_email(email)[:254])
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


@dataclass(frozen=True, slots=True)
class Caller:
    """The user behind a live API token, as plain values: what the API's services read of a user.

    Read with one Core query on every API call, so the hot path skips the ORM's loading machinery.
    """
    id: int
    email: str
    name: str
    role: str
    locale: str
    partner: access.PartnerRef | None

    @property
    def partner_id(self) -> int | None:
        return self.partner.id if self.partner is not None else None


_T, _U, _P = ApiToken.__table__.c, User.__table__.c, Partner.__table__.c
# Built once: constructing the statement would cost more than running it.
_LIVE_TOKEN = (
    select(_U.id, _U.email, _U.name, _U.role, _U.locale, _U.active,
           _P.id.label("p_id"), _P.code, _P.name.label("p_name"), _P.price_tier_id, _P.status,
           _P.credit_balance,
           _T.revoked_at, _T.expires_at)
    .select_from(ApiToken.__table__)
    .join(User.__table__, _U.id == _T.user_id)
    .outerjoin(Partner.__table__, _P.id == _U.partner_id)
    .where(_T.token_hash == bindparam("token_hash"))
)


def user_for(session: Session, token: str) -> Caller | None:
    """The active user behind a live token (of an active partner), or None."""
    row = session.connection().execute(_LIVE_TOKEN, {"token_hash": hash_token(token)}).first()
    if row is None or row.revoked_at is not None or row.expires_at <= utc_now():
        return None
    if access.may_sign_in(user_active=row.active, partner_status=row.status if row.p_id is not None else None):
        return None
    partner = None
    if row.p_id is not None:
        partner = access.PartnerRef(row.p_id, row.code, row.p_name, row.price_tier_id,
                                     row.credit_balance or Decimal("0"))
    return Caller(row.id, row.email, row.name, row.role, row.locale, partner)


def revoke(session: Session, token: str) -> bool:
    """Revoke one token; True when it was live."""
    result = session.execute(
        update(ApiToken)
        .where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None))
        .values(revoked_at=utc_now())
    )
    session.commit()
    return result.rowcount == 1
