"""Reading orders: one order, the filtered lists, the last order and the usual basket."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, case, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from portal.accounts.models import Partner
from portal.catalog import browse as catalog
from portal.core import access
from portal.core import text as search
from portal.core.access import Actor, PartnerRef
from portal.core.errors import NotFound
from portal.core.paging import clamp_page
from portal.core.types import MAX_ROW_ID
from portal.ordering.models import ORDER_STATUSES, Order, OrderLine


def get_order(session: Session, partner_id: int, order_id: int) -> Order:
    """The partner's order with its lines; another partner's order is NotFound."""
    order = session.scalar(
        select(Order).options(selectinload(Order.lines))
        .where(Order.id == order_id, Order.partner_id == partner_id)
    )
    if order is None:
        # Only on this failure path: does it exist for someone else (an attempt to audit)?
        foreign = session.scalar(select(exists().where(Order.id == order_id)))
        raise NotFound(_("No such order."), foreign=bool(foreign))
    return order



def last_order_id(session: Session, partner_id: int) -> int | None:
    """The partner's most recent order that was not cancelled."""
    return session.scalar(
        select(Order.id).where(Order.partner_id == partner_id, Order.status != "cancelled")
        .order_by(Order.created_at.desc(), Order.id.desc()).limit(1)
    )



@dataclass(frozen=True)
class UsualItem:
    product: catalog.PricedProduct
    times_ordered: int
    last_quantity: int


def usual_basket(session: Session, partner: PartnerRef, *, limit: int = 12,
                 today: date | None = None) -> list[UsualItem]:
    """The products the partner ordered most often in the last 12 months, with the last quantity."""
    since = datetime.combine((today or datetime.now(UTC).date()) - timedelta(days=365), time(0), tzinfo=UTC)
    recent = (
        select(OrderLine.product_id, func.count(func.distinct(Order.id)).label("times"),
               func.max(Order.created_at).label("last_at"))
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.partner_id == partner.id, Order.created_at >= since, Order.status != "cancelled")
        .group_by(OrderLine.product_id)
        .subquery()
    )
    top = session.execute(
        select(recent.c.product_id, recent.c.times).order_by(recent.c.times.desc(), recent.c.product_id)
        .limit(limit * 2)
    ).all()
    if not top:
        return []
    ids = [row.product_id for row in top]
    last_quantities = dict(session.execute(
        select(OrderLine.product_id, OrderLine.quantity)
        .join(Order, Order.id == OrderLine.order_id)
        .join(recent, (recent.c.product_id == OrderLine.product_id) & (recent.c.last_at == Order.created_at))
        .where(Order.partner_id == partner.id, OrderLine.product_id.in_(ids))
    ).all())
    products = catalog.priced_by_id(session, partner, ids)
    items = [UsualItem(products[pid], times, last_quantities.get(pid, 1)) for pid, times in top
             if products[pid].active]
    return items[:limit]



@dataclass(frozen=True)
class OrderFilters:
    status: str = ""
    date_from: date | None = None
    date_to: date | None = None
    partner_id: int | None = None
    q: str = ""  # an order number (exactly, "#12" or "12") or part of a PO reference


# How a list may be sorted (a whitelist: anything else is the default, newest first). Status
# sorts along the lifecycle, not alphabetically; ties are broken by the order number, so pages
# never repeat or skip a row.
SORT_KEYS = ("date", "total", "status")
_STATUS_RANK = case({status: rank for rank, status in enumerate(ORDER_STATUSES)}, value=Order.status)
_SORT_COLUMNS = {"date": Order.created_at, "total": Order.total, "status": _STATUS_RANK}


@dataclass(frozen=True)
class OrderSort:
    key: str = "date"
    descending: bool = True

    @classmethod
    def parse(cls, key: str | None, direction: str | None) -> OrderSort:
        """The sort asked for in the address bar; an unknown key or direction is the default."""
        if key not in SORT_KEYS:
            return cls()
        if direction not in ("asc", "desc"):
            return cls(key, key != "status")  # dates and totals: biggest first; statuses: lifecycle
        return cls(key, direction == "desc")

    @property
    def direction(self) -> str:
        return "desc" if self.descending else "asc"

    def clauses(self) -> tuple:
        column = _SORT_COLUMNS[self.key]
        if self.descending:
            return column.desc(), Order.id.desc()
        return column.asc(), Order.id.asc()


@dataclass(frozen=True)
class OrderPage:
    orders: list[tuple[Order, str, str]]  # order, partner code, partner name
    total: int
    page: int
    pages: int


def filtered(stmt: Select, filters: OrderFilters) -> Select:
    """Apply the list filters to a select over orders."""
    if filters.status:
        stmt = stmt.where(Order.status == filters.status)
    if filters.date_from:
        stmt = stmt.where(Order.created_at >= datetime.combine(filters.date_from, time(0), tzinfo=UTC))
    if filters.date_to and filters.date_to < date.max:  # the last date there is bounds nothing
        stmt = stmt.where(
            Order.created_at < datetime.combine(filters.date_to + timedelta(days=1), time(0), tzinfo=UTC)
        )
    if filters.partner_id:
        stmt = stmt.where(Order.partner_id == filters.partner_id)
    if (condition := search_condition(filters.q)) is not None:
        stmt = stmt.where(condition)
    return stmt


def search_condition(q: str) -> ColumnElement[bool] | None:
    """What the search box matches: the order number exactly ("1234" or "#1234"), or the PO
    reference containing the words (None: no search)."""
    q = search.clean(q)
    if not q:
        return None
    reference = search.contains(q, Order.po_reference)
    number = q.removeprefix("#").strip()
    if number.isascii() and number.isdigit() and len(number) < 10 and 1 <= int(number) <= MAX_ROW_ID:
        return or_(Order.id == int(number), reference)
    return reference


def order_number_of(session: Session, order: Order) -> int:
    """Which of the partner's orders this is: 1 for the first (thank-you milestones)."""
    return session.scalar(select(func.count(Order.id)).where(
        Order.partner_id == order.partner_id, Order.id <= order.id)) or 0


def scoped_orders(actor: Actor) -> Select:
    """All orders the user may see: their company's, or their partners' for staff."""
    stmt = select(Order)
    if actor.partner_id is not None:
        return stmt.where(Order.partner_id == actor.partner_id)
    return access.scope(stmt, actor, Order.partner_id)


def list_orders(session: Session, actor: Actor, filters: OrderFilters, *, page: int = 1,
                per_page: int = 25, sort: OrderSort = OrderSort()) -> OrderPage:
    """One page of orders (newest first unless ``sort`` says otherwise), in two queries whatever
    the history's size."""
    stmt = filtered(scoped_orders(actor), filters)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    page, pages = clamp_page(page, total, per_page)
    rows = session.execute(
        stmt.join(Partner, Partner.id == Order.partner_id)
        .add_columns(Partner.code, Partner.name)
        .order_by(*sort.clauses())
        .limit(per_page).offset((page - 1) * per_page)
    ).all()
    return OrderPage([(row[0], row[1], row[2]) for row in rows], total, page, pages)


def get_for_staff(session: Session, actor: Actor, order_id: int) -> Order:
    """An order of a partner the staff user looks after, with its lines; else NotFound."""
    order = session.scalar(
        scoped_orders(actor).options(selectinload(Order.lines), selectinload(Order.partner))
        .where(Order.id == order_id)
    )
    if order is None:
        # Only on this failure path: does it exist for someone else (an attempt to audit)?
        foreign = session.scalar(select(exists().where(Order.id == order_id)))
        raise NotFound(_("No such order."), foreign=bool(foreign))
    return order


