"""What each role's dashboard shows, each in a fixed number of queries (no query per row).

- A partner's user: open orders with status and promised dates, the last order (to reorder), and
  spend this year against last year, month by month (``home.spend``).
- An account manager: orders awaiting confirmation, open tasks and partners who have gone quiet
  (``home.quiet``), all of the partners they look after only.
- An admin: orders awaiting confirmation, partners added in the last 30 days, and notifications
  the outbox gave up on.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.accounts.models import Partner, User
from portal.core import access
from portal.core.access import Actor, PartnerRef
from portal.home.quiet import QuietPartner, quiet_partners
from portal.home.spend import SpendComparison, yearly_spend
from portal.notifications.models import Notification
from portal.ordering.models import Order
from portal.workspace import tasks

OPEN_STATUSES = ("submitted", "confirmed", "shipped")
LIST_LIMIT = 10
NEW_PARTNER_DAYS = 30
NOTIFICATION_KINDS = {
    "thank_you_first_order": _l("Thank-you for a first order"),
    "thank_you_order_milestone": _l("Thank-you for an order milestone"),
}


@dataclass(frozen=True)
class BuyerDashboard:
    partner: PartnerRef
    open_orders: list[Order]
    open_count: int
    last_order: Order | None
    spend: SpendComparison
    company_users: int | None  # for a partner admin


@dataclass(frozen=True)
class AwaitingOrder:
    order: Order
    partner_name: str
    partner_code: str


@dataclass(frozen=True)
class ManagerDashboard:
    awaiting: list[AwaitingOrder]
    awaiting_count: int
    tasks: tasks.TaskPage
    quiet: list[QuietPartner]
    quiet_count: int
    partner_count: int


@dataclass(frozen=True)
class FailedNotification:
    notification: Notification
    partner_name: str | None


@dataclass(frozen=True)
class AdminDashboard:
    awaiting: list[AwaitingOrder]
    awaiting_count: int
    new_partners: list[Partner]
    new_partner_count: int
    failed: list[FailedNotification]
    failed_count: int


def for_buyer(session: Session, actor: Actor, *, time_zone: str, now: datetime | None = None
              ) -> BuyerDashboard:
    """A partner user's dashboard: five queries (four for a buyer)."""
    assert actor.partner is not None
    mine = Order.partner_id == actor.partner_id
    still_open = session.scalars(
        select(Order).where(mine, Order.status.in_(OPEN_STATUSES))
        .order_by(Order.created_at.desc(), Order.id.desc()).limit(LIST_LIMIT)
    ).all()
    open_count = session.scalar(select(func.count(Order.id)).where(mine, Order.status.in_(OPEN_STATUSES)))
    last = session.scalar(
        select(Order).where(mine, Order.status != "cancelled")
        .order_by(Order.created_at.desc(), Order.id.desc()).limit(1)
    )
    users = None
    if actor.role == "partner_admin":
        users = session.scalar(
            select(func.count(User.id)).where(User.partner_id == actor.partner_id, User.active)
        )
    spend = yearly_spend(session, actor.partner.id, time_zone=time_zone, now=now)
    return BuyerDashboard(actor.partner, list(still_open), open_count or 0, last, spend, users)


def _awaiting(session: Session, actor: Actor) -> tuple[list[AwaitingOrder], int]:
    """Submitted orders of the visible partners, oldest first (they have waited longest)."""
    stmt = access.scope(select(Order), actor, Order.partner_id).where(Order.status == "submitted")
    count = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.execute(
        stmt.join(Partner, Partner.id == Order.partner_id).add_columns(Partner.name, Partner.code)
        .order_by(Order.created_at, Order.id).limit(LIST_LIMIT)
    ).all()
    return [AwaitingOrder(order, name, code) for order, name, code in rows], count


def for_manager(session: Session, actor: Actor, *, now: datetime | None = None,
                zone: tzinfo = UTC) -> ManagerDashboard:
    """An account manager's dashboard, of their partners only: at most eight queries. ``zone``:
    the wholesaler's time zone, in which order days are counted (as on the portfolio)."""
    awaiting, awaiting_count = _awaiting(session, actor)
    open_tasks = tasks.list_tasks(session, actor, show="open", per_page=5)
    quiet, quiet_count = quiet_partners(session, actor, now=now, limit=LIST_LIMIT, zone=zone)
    partner_count = session.scalar(access.scope(select(func.count(Partner.id)), actor, Partner.id)) or 0
    return ManagerDashboard(awaiting, awaiting_count, open_tasks, quiet, quiet_count, partner_count)


def for_admin(session: Session, actor: Actor, *, now: datetime | None = None) -> AdminDashboard:
    """The administrator's dashboard: six queries."""
    now = now or datetime.now(UTC)
    awaiting, awaiting_count = _awaiting(session, actor)
    recent = Partner.created_at >= now - timedelta(days=NEW_PARTNER_DAYS)
    new_partners = session.scalars(
        select(Partner).where(recent).order_by(Partner.created_at.desc(), Partner.id.desc()).limit(LIST_LIMIT)
    ).all()
    new_count = session.scalar(select(func.count(Partner.id)).where(recent)) or 0
    failed_rows = session.execute(
        select(Notification, Partner.name).outerjoin(Partner, Partner.id == Notification.partner_id)
        .where(Notification.status == "failed")
        .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(LIST_LIMIT)
    ).all()
    failed_count = session.scalar(
        select(func.count(Notification.id)).where(Notification.status == "failed")) or 0
    return AdminDashboard(awaiting, awaiting_count, list(new_partners), new_count,
                          [FailedNotification(n, name) for n, name in failed_rows], failed_count)
