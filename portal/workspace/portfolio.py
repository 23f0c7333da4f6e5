"""The account manager's portfolio: the partners they look after, and one partner's overview."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, selectinload

from portal.accounts.models import Partner, User
from portal.catalog.models import Product
from portal.core import access, text
from portal.core.access import Actor
from portal.core.paging import Page, paginate
from portal.core.types import utc_now
from portal.notifications.models import Task
from portal.ordering.models import Order, OrderLine

PAGE_SIZE = 50
TOP_PRODUCTS = 5
OPEN_TASKS = 5


def list_partners(session: Session, actor: Actor, *, query: str = "", page: int = 1,
                  per_page: int = PAGE_SIZE) -> Page[Partner]:
    """The partners the actor looks after (every partner for an admin), by name, searchable."""
    stmt = access.scope(select(Partner), actor, Partner.id).options(
        selectinload(Partner.price_tier), selectinload(Partner.account_manager))
    matches = text.contains(query, Partner.name, Partner.code)
    if matches is not None:
        stmt = stmt.where(matches)
    return paginate(session, stmt.order_by(Partner.name, Partner.id), page=page, per_page=per_page)


@dataclass(frozen=True)
class Contact:
    """Whom to call or write to: the partner's contact person, else its first active administrator
    (``from_people``: nobody was entered, so this is read from the partner's users)."""

    name: str = ""
    email: str = ""
    phone: str = ""
    from_people: bool = False


@dataclass(frozen=True)
class Revenue:
    """Net sales (line totals, cancelled orders left out) this year so far and in the same
    stretch of last year (1 January to the same day and time, in UTC)."""

    this_year: Decimal
    last_year: Decimal
    year: int

    @property
    def change(self) -> Decimal | None:
        """This year against last as a share (0.125 = 12.5 % up); None without last year's sales."""
        if not self.last_year:
            return None
        return (self.this_year - self.last_year) / self.last_year


@dataclass(frozen=True)
class TopProduct:
    sku: str
    name: str
    quantity: int
    revenue: Decimal


@dataclass(frozen=True)
class PartnerOverview:
    partner: Partner
    contact: Contact
    users: list[User]
    order_count: int        # every order, whatever its status: what the orders list shows
    cancelled_count: int
    ordered_total: Decimal  # the orders that were not cancelled
    last_order: Order | None
    revenue: Revenue
    top_products: list[TopProduct]  # last 12 months, by net revenue
    open_tasks: list[Task]
    open_task_count: int


def partner_overview(session: Session, actor: Actor, partner_id: int, *,
                     now: datetime | None = None) -> PartnerOverview:
    """One partner the actor may see: contact, people, orders, sales and open tasks
    (``NotFound`` otherwise), in a fixed number of queries."""
    partner = access.get_visible(session, actor, Partner, partner_id, partner_of=lambda p: p.id)
    now = now or utc_now()
    users = list(session.scalars(select(User).where(User.partner_id == partner.id)
                                 .order_by(User.role != "partner_admin", User.email)))
    cancelled = Order.status == "cancelled"
    count, cancelled_count, total = session.execute(
        select(func.count(Order.id), func.count(case((cancelled, 1))),
               func.coalesce(func.sum(case((cancelled, 0), else_=Order.total)), 0))
        .where(Order.partner_id == partner.id)
    ).one()
    last_order = session.scalar(select(Order).where(Order.partner_id == partner.id)
                                .order_by(Order.created_at.desc(), Order.id.desc()).limit(1))
    tasks = _open_tasks(session, partner.id)
    return PartnerOverview(
        partner, _contact(partner, users), users, count, cancelled_count, Decimal(total),
        last_order, _revenue(session, partner.id, now), _top_products(session, partner.id, now),
        tasks[:OPEN_TASKS], len(tasks) if len(tasks) <= OPEN_TASKS else _task_count(session, partner.id),
    )


def _contact(partner: Partner, users: list[User]) -> Contact:
    if partner.contact_name or partner.contact_email or partner.contact_phone:
        return Contact(partner.contact_name, partner.contact_email, partner.contact_phone)
    admin = next((u for u in users if u.active and u.role == "partner_admin"), None)
    return Contact(admin.name, admin.email, from_people=True) if admin else Contact()


def _net_sales():
    """Net sales of a partner's orders (lines as charged), cancelled ones left out."""
    return (select().select_from(OrderLine).join(Order, Order.id == OrderLine.order_id)
            .where(Order.status != "cancelled"))


def _revenue(session: Session, partner_id: int, now: datetime) -> Revenue:
    now = now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC)
    this_start = datetime(now.year, 1, 1, tzinfo=UTC)
    last_start = datetime(now.year - 1, 1, 1, tzinfo=UTC)
    try:
        last_end = now.replace(year=now.year - 1)
    except ValueError:  # 29 February: last year's stretch ends on the 28th
        last_end = now.replace(year=now.year - 1, day=28)
    this_year, last_year = session.execute(
        _net_sales().add_columns(
            func.coalesce(func.sum(case((Order.created_at >= this_start, OrderLine.line_total), else_=0)), 0),
            func.coalesce(func.sum(case((Order.created_at < last_end, OrderLine.line_total), else_=0)), 0),
        ).where(Order.partner_id == partner_id, Order.created_at >= last_start, Order.created_at < now,
                (Order.created_at < last_end) | (Order.created_at >= this_start))
    ).one()
    return Revenue(Decimal(this_year), Decimal(last_year), now.year)


def _top_products(session: Session, partner_id: int, now: datetime) -> list[TopProduct]:
    revenue = func.sum(OrderLine.line_total)
    rows = session.execute(
        _net_sales().join(Product, Product.id == OrderLine.product_id)
        .add_columns(Product.sku, Product.name, func.sum(OrderLine.quantity), revenue)
        .where(Order.partner_id == partner_id, Order.created_at >= now - timedelta(days=365))
        .group_by(Product.id, Product.sku, Product.name)
        .order_by(revenue.desc(), Product.id).limit(TOP_PRODUCTS)
    ).all()
    return [TopProduct(sku, name, int(quantity), Decimal(amount)) for sku, name, quantity, amount in rows]


def _open_tasks(session: Session, partner_id: int) -> list[Task]:
    return list(session.scalars(
        select(Task).where(Task.partner_id == partner_id, Task.status == "open")
        .order_by(Task.due_on.is_(None), Task.due_on, Task.id).limit(OPEN_TASKS + 1)
    ))


def _task_count(session: Session, partner_id: int) -> int:
    return session.scalar(select(func.count(Task.id)).where(Task.partner_id == partner_id,
                                                            Task.status == "open")) or 0


# --- Forecast figures for the portfolio (stored runs only; see workspace/forecast_portfolio.py) ---

def forecast_figures(session: Session, actor: Actor, *, manager_id: int | None = None):
    """The portfolio's next-year total with its 80 % interval (the interval of the sum), each
    partner's forecast total, interval, adjusted total and trust (``.partners[partner_id]``),
    and the alerts: forecasts that fell most since the previous run, and failed forecasts."""
    from portal.workspace import forecast_portfolio

    return forecast_portfolio.portfolio_forecast(session, actor, manager_id=manager_id)
