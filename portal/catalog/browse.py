"""Reading the catalog: as one partner sees it (active products at that partner's prices),
and the operator's whole-catalog list."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import and_, any_, bindparam, func, select, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from portal.accounts.models import PriceTier
from portal.catalog.models import Product, TierPrice
from portal.catalog.pricing import unit_price
from portal.core import text as search
from portal.core.access import PartnerRef
from portal.core.paging import clamp_page
from portal.core.vat import DEFAULT_VAT_RATE


@dataclass(frozen=True)
class PricedProduct:
    id: int
    sku: str
    name: str
    category: str
    unit: str
    pack_size: int
    base_price: Decimal
    price: Decimal  # net of VAT
    active: bool
    vat_rate: int = DEFAULT_VAT_RATE  # percent


@dataclass(frozen=True)
class CatalogPage:
    items: list[PricedProduct]
    total: int
    page: int
    pages: int
    categories: list[str]


_P, _TP, _T = Product.__table__.c, TierPrice.__table__.c, PriceTier.__table__.c
# Core columns: pricing runs on every catalog page and every order, so it skips the ORM.
_COLUMNS = (_P.id, _P.sku, _P.name, _P.category, _P.unit, _P.pack_size, _P.base_price, _P.active,
            _P.vat_rate)


def _priced_select(where):
    tier = bindparam("tier_id")
    return (
        select(*_COLUMNS, _TP.price, _T.discount_percent)
        .select_from(Product.__table__)
        .outerjoin(TierPrice.__table__, and_(_TP.product_id == _P.id, _TP.tier_id == tier))
        .outerjoin(PriceTier.__table__, _T.id == tier)
        .where(where)
        .order_by(_P.category, _P.name, _P.id)
    )


def _any_of(column, name: str) -> dict:
    """``column`` is one of the list bound as ``name``: a statement per dialect.

    On PostgreSQL ``= ANY(:name)`` with one array parameter keeps one SQL string for any number
    of values, so there is nothing to render per call and one server-side prepared statement
    serves every order; elsewhere (SQLite) an expanding ``IN``.
    """
    return {"postgresql": _priced_select(column == any_(bindparam(name, type_=ARRAY(column.type)))),
            "default": _priced_select(column.in_(bindparam(name, expanding=True)))}


# Built once (pricing runs on every catalog page and every order): building a statement costs
# more CPU than running it.
_BY_ID = _any_of(_P.id, "ids")
_BY_SKU = _any_of(_P.sku, "skus")


def _priced(session: Session, partner: PartnerRef | None, statements: dict, **params
            ) -> list[PricedProduct]:
    """Products with the partner's price, in one query (columns, not ORM objects)."""
    tier_id = partner.price_tier_id if partner is not None else None
    connection = session.connection()
    stmt = statements.get(connection.dialect.name, statements["default"])
    return [
        PricedProduct(pid, sku, name, category, unit, pack, base, unit_price(base, discount, explicit),
                      active, vat_rate)
        for pid, sku, name, category, unit, pack, base, active, vat_rate, explicit, discount
        in connection.execute(stmt, {"tier_id": tier_id, **params})
    ]


def browse(
    session: Session, partner: PartnerRef | None, *, q: str = "", category: str = "",
    page: int = 1, per_page: int = 24,
) -> CatalogPage:
    """One page of orderable products, searched by name or SKU and filtered by category."""
    where = [Product.active.is_(True)]
    matches = search.contains(q, Product.name, Product.sku)
    if matches is not None:
        where.append(matches)
    if category := search.clean(category):
        where.append(Product.category == category)
    condition = and_(*where)
    total = session.scalar(select(func.count(Product.id)).where(condition)) or 0
    page, pages = clamp_page(page, total, per_page)
    ids = session.scalars(
        select(Product.id).where(condition).order_by(Product.category, Product.name, Product.id)
        .limit(per_page).offset((page - 1) * per_page)
    ).all()
    items = _priced(session, partner, _BY_ID, ids=list(ids)) if ids else []
    categories = session.scalars(
        select(Product.category).where(Product.active.is_(True)).distinct().order_by(Product.category)
    ).all()
    return CatalogPage(items, total, page, pages, list(categories))


def priced_by_id(
    session: Session, partner: PartnerRef | None, ids: Iterable[int]
) -> dict[int, PricedProduct]:
    """Products (active or not) by id, at the partner's prices."""
    ids = list(set(ids))
    return {p.id: p for p in _priced(session, partner, _BY_ID, ids=ids)} if ids else {}


def priced_by_sku(
    session: Session, partner: PartnerRef | None, skus: Iterable[str]
) -> dict[str, PricedProduct]:
    """Products (active or not) keyed by the SKU as asked; a SKU matches as typed or upper-cased."""
    asked = {s.strip() for s in skus if s.strip()}
    if not asked:
        return {}
    candidates = asked | {s.upper() for s in asked}
    found = {p.sku: p for p in _priced(session, partner, _BY_SKU, skus=sorted(candidates))}
    return {s: found.get(s) or found[s.upper()] for s in asked if s in found or s.upper() in found}


ADMIN_PAGE_SIZE = 50


@dataclass(frozen=True)
class ProductPage:
    items: list[Product]
    total: int
    page: int
    pages: int
    categories: list[str]


def list_products(
    session: Session, *, q: str = "", category: str = "", status: str = "", page: int = 1,
    per_page: int = ADMIN_PAGE_SIZE,
) -> ProductPage:
    """One page of the whole catalog (inactive products too), searched and filtered."""
    where = []
    matches = search.contains(q, Product.name, Product.sku)
    if matches is not None:
        where.append(matches)
    if category := search.clean(category):
        where.append(Product.category == category)
    if status in ("active", "inactive"):
        where.append(Product.active.is_(status == "active"))
    condition = and_(true(), *where)
    total = session.scalar(select(func.count(Product.id)).where(condition)) or 0
    page, pages = clamp_page(page, total, per_page)
    items = session.scalars(
        select(Product).where(condition).order_by(Product.category, Product.name, Product.id)
        .limit(per_page).offset((page - 1) * per_page)
    ).all()
    categories = session.scalars(
        select(Product.category).distinct().order_by(Product.category)
    ).all()
    return ProductPage(list(items), total, page, pages, list(categories))
