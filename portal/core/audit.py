"""Writing the audit trail (helpers: they add to the caller's transaction, never commit)."""
from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from sqlalchemy.orm import Session

from portal.core.models import AuditEvent

# The address of the client whose request is being served; the web layer sets it for the length
# of each request (portal.web.guards.register_client_address), jobs and the CLI leave it None.
# Every event records it, so no use case has to pass the address along to be audited fully.
client_address: ContextVar[str | None] = ContextVar("trellis_client_address", default=None)


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
        ip=ip if ip is not None else client_address.get(),
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
