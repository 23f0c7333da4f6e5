"""An order's life after it is placed: staff confirm, ship and deliver it; it can be cancelled.

Moves are compare-and-set on the status, so of two people moving one order at once exactly one
wins; a cancelled order gives back the credit it took (ordering.credits). Features above
ordering act on a status in the same transaction through ``on_status`` (referral rewards).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.core import audit
from portal.core.access import Actor
from portal.core.errors import Conflict, ServiceError
from portal.core.labels import label
from portal.core.types import utc_now
from portal.ordering import credits
from portal.ordering.models import Order
from portal.ordering.queries import get_for_staff, get_order

MAX_REASON = 500  # as the confirmation form allows
# action -> (statuses it may start from, status it leads to)
TRANSITIONS = {
    "confirm": (("submitted",), "confirmed"),
    "ship": (("confirmed",), "shipped"),
    "deliver": (("shipped",), "delivered"),
    "cancel": (("submitted", "confirmed"), "cancelled"),
}

def cancel(session: Session, actor: Actor, order_id: int) -> Order:
    """A partner user cancels their company's order while it is still submitted."""
    order = get_order(session, actor.partner_id, order_id)
    status = order.status
    if status == "submitted":
        status = _move(session, order, "submitted", status="cancelled")
    if status is not None:
        raise Conflict(_("Only a submitted order can be cancelled; this one is %(status)s.",
                         status=_status_label(status)))
    audit.record(session, "order_cancelled", actor_id=actor.user_id, target=order,
                 partner_id=order.partner_id)
    credits.give_back(session, order.id, actor_id=actor.user_id)
    session.commit()
    return order


def advance(session: Session, actor: Actor, order_id: int, action: str, *,
            promised_date: date | None = None, reason: str = "") -> Order:
    """Staff move an order along submitted → confirmed → shipped → delivered, or cancel it
    (``reason``, optional, is kept in the audit event)."""
    if action not in TRANSITIONS:
        raise ServiceError(_("Unknown action."))
    order = get_for_staff(session, actor, order_id)
    allowed_from, target = TRANSITIONS[action]
    previous = order.status
    if previous not in allowed_from:
        raise _cannot_move(previous, target)
    values: dict = {"status": target}
    if action == "confirm":
        today = datetime.now(UTC).date()
        promised = promised_date or order.requested_delivery_date or today + timedelta(days=3)
        if promised < today:
            raise ServiceError(_("The promised date cannot be in the past."), field="promised_date")
        values["promised_date"] = promised
    if action == "deliver":
        values["delivered_at"] = utc_now()
    status = _move(session, order, previous, **values)
    if status is not None:
        raise _cannot_move(status, target)
    reason = (reason or "").replace("\x00", "").strip()[:MAX_REASON]  # JSON in PostgreSQL holds no NUL
    detail = {"reason": reason} if reason else {}
    audit.record(session, f"order_{target}", actor_id=actor.user_id, target=order,
                 partner_id=order.partner_id, previous=previous, status=target, **detail)
    if target == "cancelled":
        credits.give_back(session, order.id, actor_id=actor.user_id)
    for hook in _STATUS_HOOKS.get(target, ()):
        hook(session, order)
    session.commit()
    return order


# What other features do when an order reaches a status, in the transaction that moves it
# (referrals grant a reward on the referred partner's delivered order): status -> callbacks
# of (session, order). Features above ordering register here at start-up (on_status), as
# ordering may not import them.
_STATUS_HOOKS: dict[str, list[Callable[[Session, Order], None]]] = {}


def on_status(status: str, hook: Callable[[Session, Order], None]) -> None:
    """Run ``hook(session, order)`` whenever an order is moved to ``status`` (once per hook)."""
    hooks = _STATUS_HOOKS.setdefault(status, [])
    if hook not in hooks:
        hooks.append(hook)


def _move(session: Session, order: Order, expected: str, **values) -> str | None:
    """Set the values if the order is still ``expected`` (compare and set, no commit).

    Returns None when it moved, else the status someone else has given the order meanwhile.

    Of two people moving one order at once, exactly one gets the row: the other's UPDATE waits
    for the first to commit, then matches nothing, and the order's real status is read back.
    """
    moved = session.execute(
        update(Order).where(Order.id == order.id, Order.status == expected).values(**values)
    ).rowcount
    if moved == 1:
        return None
    session.rollback()
    return session.scalar(select(Order.status).where(Order.id == order.id))


def _cannot_move(status: str, target: str) -> Conflict:
    return Conflict(_("An order that is %(status)s cannot be moved to %(target)s.",
                      status=_status_label(status), target=_status_label(target)))


_status_label = label  # the status in the reader's language (pages call it too)


