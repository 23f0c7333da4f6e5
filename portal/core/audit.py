"""Writing the audit trail (helpers: they add to the caller's transaction, never commit)."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from portal.core.models import AuditEvent


def record(
    session: Session,
    action: str,
    *,
    actor_id: int | None = None,
    target: Any = None,
    partner_id: int | None = None,
    ip: str | None = None,
    **detail: Any,
) -> AuditEvent:
    """Add an audit event to the session."""
    event = AuditEvent(
        action=action,
        actor_id=actor_id,
        target_type=type(target).__tablename__ if target is not None else None,
        target_id=getattr(target, "id", None),
        partner_id=partner_id,
        ip=ip,
        detail=detail,
    )
    session.add(event)
    return event


def record_denial(session: Session, *, actor_id: int | None, path: str, ip: str | None,
                  status: int = 403) -> None:
    """Record an authorization failure (a 403, or a 404 for another partner's row) in a
    transaction of its own: the path and who asked, never the request's body."""
    session.rollback()
    record(session, "authz_denied", actor_id=actor_id, ip=ip, path=path[:200], status=status)
    session.commit()
