"""The operator's catalog: products, price tiers and tier assignment (the CSV import is
portal.catalog.importer)."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.accounts.models import Partner, PriceTier
from portal.catalog.models import Product, TierPrice
from portal.catalog.pricing import unit_price
from portal.core import audit
from portal.core.access import SYSTEM, Actor
from portal.core.errors import Conflict, NotFound, ServiceError
from portal.core.money import MAX_MONEY
from portal.core.vat import DEFAULT_VAT_RATE, VAT_RATES

SKU_RE = re.compile(r"^[A-Z0-9][A-Z0-9._/-]{0,39}$")
MAX_PACK_SIZE = 100_000
MAX_PRICE = MAX_MONEY
PRODUCT_FIELDS = ("sku", "name", "category", "unit", "pack_size", "base_price", "vat_rate", "active")


# --- checks shared by the forms' services and the CSV import --------------------------------------

def normalize_sku(sku: str) -> str:
    return (sku or "").strip().upper()


def check_sku(sku: str) -> str:
    sku = normalize_sku(sku)
    if not SKU_RE.match(sku):
        raise ServiceError(_("A SKU is 1–40 letters, digits, '.', '/', '-' or '_', starting "
                             "with a letter or digit."), field="sku")
    return sku


def check_amount(
    value: Decimal | str | None, *, field: str, maximum: Decimal = MAX_PRICE
) -> Decimal:
    """A Decimal from 0 to ``maximum`` with at most two decimal places."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        amount = None
    if amount is None or not amount.is_finite():
        raise ServiceError(_("Enter an amount like 12.50."), field=field)
    if amount < 0 or amount > maximum:
        raise ServiceError(_("Enter an amount from 0 to %(max)s.", max=maximum), field=field)
    if amount.as_tuple().exponent < -2:
        raise ServiceError(_("Use at most 2 decimal places."), field=field)
    return amount.quantize(Decimal("0.01"))


@dataclass
class ProductData:
    sku: str
    name: str
    category: str
    unit: str
    pack_size: int | str
    base_price: Decimal | str
    active: bool | None = None  # None: a new product is active, an existing one stays as it is
    vat_rate: int | str | None = None  # None: a new product takes 23 %, an existing one keeps its rate


def _check_name(value: str) -> str:
    name = (value or "").strip()
    if not name or len(name) > 200:
        raise ServiceError(_("Enter a name of at most 200 characters."), field="name")
    return name


def _check_category(value: str) -> str:
    category = (value or "").strip()
    if len(category) > 80:
        raise ServiceError(_("The category has at most 80 characters."), field="category")
    return category


def _check_unit(value: str) -> str:
    unit = (value or "").strip() or "pcs"
    if len(unit) > 20:
        raise ServiceError(_("The unit has at most 20 characters."), field="unit")
    return unit


def _check_pack_size(value: int | str) -> int:
    if isinstance(value, str):
        value = value.strip()
        value = int(value) if value.isascii() and value.isdigit() and len(value) < 10 else 0
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PACK_SIZE:
        raise ServiceError(_("The pack size is a whole number from 1 to %(max)d.",
                             max=MAX_PACK_SIZE), field="pack_size")
    return value


def _check_price(value: Decimal | str) -> Decimal:
    return check_amount(value, field="base_price")


def check_vat_rate(value: int | str | None) -> int | None:
    """One of the Polish VAT rates in percent (23, 8, 5, 0; "23%" too); None stays None."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip().removesuffix("%").strip()
        value = int(text) if text.isascii() and text.isdigit() and len(text) < 4 else -1
    if isinstance(value, bool) or value not in VAT_RATES:
        raise ServiceError(_("The VAT rate is one of %(rates)s (percent).",
                             rates=", ".join(str(rate) for rate in VAT_RATES)), field="vat_rate")
    return value


PRODUCT_CHECKS: dict[str, Callable[[Any], Any]] = {
    "sku": check_sku, "name": _check_name, "category": _check_category, "unit": _check_unit,
    "pack_size": _check_pack_size, "base_price": _check_price,
}


def check_product(data: ProductData) -> ProductData:
    """Normalised product fields; ServiceError naming the first field that is wrong."""
    checked = {name: check(getattr(data, name)) for name, check in PRODUCT_CHECKS.items()}
    return ProductData(**checked, active=data.active, vat_rate=check_vat_rate(data.vat_rate))


def _sku_taken(session: Session, sku: str, except_id: int | None = None) -> bool:
    stmt = select(Product.id).where(func.upper(Product.sku) == sku)
    if except_id is not None:
        stmt = stmt.where(Product.id != except_id)
    return session.scalar(stmt.limit(1)) is not None


def apply_changes(product: Product, data: ProductData) -> dict[str, list[str]]:
    """Copy the fields onto the product; returns {field: [old, new]} of what changed."""
    changes: dict[str, list[str]] = {}
    for name in PRODUCT_FIELDS:
        new = getattr(data, name)
        if new is None:
            continue
        old = getattr(product, name)
        if old != new:
            changes[name] = [str(old), str(new)]
            setattr(product, name, new)
    return changes


def flush_unique(session: Session, message: str, field: str) -> None:
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict(message, field=field) from None


# --- products -------------------------------------------------------------------------------------

def get_product(session: Session, product_id: int) -> Product:
    product = session.get(Product, product_id)
    if product is None:
        raise NotFound(_("No such product."))
    return product


def create_product(session: Session, data: ProductData, *, actor: Actor = SYSTEM) -> Product:
    """Add a product to the catalog."""
    data = check_product(data)
    if _sku_taken(session, data.sku):
        raise Conflict(_("A product with SKU %(sku)s already exists.", sku=data.sku), field="sku")
    product = Product(sku=data.sku, name=data.name, category=data.category, unit=data.unit,
                      pack_size=data.pack_size, base_price=data.base_price,
                      vat_rate=DEFAULT_VAT_RATE if data.vat_rate is None else data.vat_rate,
                      active=True if data.active is None else data.active)
    session.add(product)
    flush_unique(session, _("A product with SKU %(sku)s already exists.", sku=data.sku), "sku")
    audit.record(session, "product_created", actor_id=actor.user_id, target=product, sku=product.sku,
                 base_price=str(product.base_price))
    session.commit()
    return product


def update_product(
    session: Session, product_id: int, data: ProductData, *, actor: Actor = SYSTEM
) -> Product:
    """Change a product's fields (its SKU too, if the new one is free)."""
    product = get_product(session, product_id)
    data = check_product(data)
    if _sku_taken(session, data.sku, except_id=product.id):
        raise Conflict(_("A product with SKU %(sku)s already exists.", sku=data.sku), field="sku")
    changes = apply_changes(product, data)
    if changes:
        flush_unique(session, _("A product with SKU %(sku)s already exists.", sku=data.sku),
                      "sku")
        audit.record(session, "product_updated", actor_id=actor.user_id, target=product,
                     sku=product.sku, changes=changes)
    session.commit()
    return product


def set_product_active(
    session: Session, product_id: int, active: bool, *, actor: Actor = SYSTEM
) -> Product:
    """Stop selling a product (it stays in order history) or sell it again."""
    product = get_product(session, product_id)
    if product.active != active:
        product.active = active
        audit.record(session, "product_reactivated" if active else "product_deactivated",
                     actor_id=actor.user_id, target=product, sku=product.sku)
    session.commit()
    return product


# --- price tiers ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class TierSummary:
    tier: PriceTier
    partners: int
    explicit_prices: int


@dataclass(frozen=True)
class TierPriceRow:
    product: Product
    price: Decimal  # the explicit price
    discounted: Decimal  # what the tier's discount alone would give


def list_tiers(session: Session) -> list[TierSummary]:
    """Every tier with how many partners buy at it and how many explicit prices it has."""
    partners = dict(session.execute(
        select(Partner.price_tier_id, func.count(Partner.id)).group_by(Partner.price_tier_id)
    ).all())
    prices = dict(session.execute(
        select(TierPrice.tier_id, func.count()).group_by(TierPrice.tier_id)
    ).all())
    return [TierSummary(t, partners.get(t.id, 0), prices.get(t.id, 0))
            for t in session.scalars(select(PriceTier).order_by(PriceTier.name))]


def get_tier(session: Session, tier_id: int) -> PriceTier:
    tier = session.get(PriceTier, tier_id)
    if tier is None:
        raise NotFound(_("No such price tier."))
    return tier


def tier_prices(session: Session, tier: PriceTier) -> list[TierPriceRow]:
    """The tier's explicit prices, by product."""
    rows = session.execute(
        select(Product, TierPrice.price).join(TierPrice, TierPrice.product_id == Product.id)
        .where(TierPrice.tier_id == tier.id).order_by(Product.category, Product.name, Product.id)
    ).all()
    return [TierPriceRow(p, price, unit_price(p.base_price, tier.discount_percent))
            for p, price in rows]


def _check_tier(session: Session, name: str, discount: Decimal | str | None,
                except_id: int | None = None) -> tuple[str, Decimal]:
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise ServiceError(_("Enter a name of at most 80 characters."), field="name")
    stmt = select(PriceTier.id).where(func.lower(PriceTier.name) == name.lower())
    if except_id is not None:
        stmt = stmt.where(PriceTier.id != except_id)
    if session.scalar(stmt.limit(1)) is not None:
        raise Conflict(_("A price tier named %(name)s already exists.", name=name), field="name")
    try:
        percent = check_amount(discount, field="discount_percent", maximum=Decimal(100))
    except ServiceError:
        raise ServiceError(_("The discount is a percentage from 0 to 100 with at most 2 "
                             "decimal places."), field="discount_percent") from None
    return name, percent


def create_tier(
    session: Session, *, name: str, discount_percent: Decimal | str, actor: Actor = SYSTEM
) -> PriceTier:
    """Add a price tier."""
    name, percent = _check_tier(session, name, discount_percent)
    tier = PriceTier(name=name, discount_percent=percent)
    session.add(tier)
    flush_unique(session, _("A price tier named %(name)s already exists.", name=name), "name")
    audit.record(session, "tier_created", actor_id=actor.user_id, target=tier, name=name,
                 discount_percent=str(percent))
    session.commit()
    return tier


def update_tier(
    session: Session, tier_id: int, *, name: str, discount_percent: Decimal | str,
    actor: Actor = SYSTEM,
) -> PriceTier:
    """Rename a tier or change its discount."""
    tier = get_tier(session, tier_id)
    name, percent = _check_tier(session, name, discount_percent, except_id=tier.id)
    changes = {}
    if tier.name != name:
        changes["name"] = [tier.name, name]
        tier.name = name
    if Decimal(tier.discount_percent) != percent:
        changes["discount_percent"] = [str(tier.discount_percent), str(percent)]
        tier.discount_percent = percent
    if changes:
        flush_unique(session, _("A price tier named %(name)s already exists.", name=name), "name")
        audit.record(session, "tier_updated", actor_id=actor.user_id, target=tier, changes=changes)
    session.commit()
    return tier


def set_tier_price(
    session: Session, tier_id: int, *, sku: str, price: Decimal | str, actor: Actor = SYSTEM
) -> TierPrice:
    """Set the explicit price a tier pays for one product (it wins over the tier's discount)."""
    tier = get_tier(session, tier_id)
    amount = check_amount(price, field="price")
    product = session.scalar(select(Product).where(func.upper(Product.sku) == normalize_sku(sku)))
    if product is None:
        raise NotFound(_("No product with SKU %(sku)s.", sku=(sku or "").strip()), field="sku")
    row = session.get(TierPrice, (tier.id, product.id))
    old = None if row is None else str(row.price)
    if row is None:
        row = TierPrice(tier_id=tier.id, product_id=product.id, price=amount)
        session.add(row)
        flush_unique(session, _("Someone set this price at the same time. Try again."), "sku")
    else:
        row.price = amount
    if old != str(amount):
        audit.record(session, "tier_price_set", actor_id=actor.user_id, target=tier, sku=product.sku,
                     product_id=product.id, old=old, new=str(amount))
    session.commit()
    return row


def remove_tier_price(
    session: Session, tier_id: int, product_id: int, *, actor: Actor = SYSTEM
) -> Product:
    """Drop a tier's explicit price for a product; the tier's discount applies again."""
    tier = get_tier(session, tier_id)
    row = session.get(TierPrice, (tier.id, product_id))
    if row is None:
        raise NotFound(_("This tier has no explicit price for that product."))
    product = session.get(Product, product_id)
    audit.record(session, "tier_price_removed", actor_id=actor.user_id, target=tier, sku=product.sku,
                 product_id=product_id, old=str(row.price))
    session.delete(row)
    session.commit()
    return product


def assign_tier(
    session: Session, partner_id: int, tier_id: int | None, *, actor: Actor = SYSTEM
) -> Partner:
    """Set the tier a partner buys at (None: list prices)."""
    partner = session.get(Partner, partner_id)
    if partner is None:
        raise NotFound(_("No such partner."), field="partner")
    tier = get_tier(session, tier_id) if tier_id is not None else None
    if partner.price_tier_id != (tier.id if tier else None):
        old = partner.price_tier.name if partner.price_tier else None
        partner.price_tier = tier
        audit.record(session, "partner_tier_assigned", actor_id=actor.user_id, target=partner,
                     partner_id=partner.id, old=old, new=tier.name if tier else None)
    session.commit()
    return partner


@dataclass(frozen=True)
class PartnerTierRow:
    id: int
    name: str
    code: str
    tier_id: int | None


def partner_tiers(session: Session) -> list[PartnerTierRow]:
    """Every partner with the tier it buys at, by name (for the assignment form)."""
    return [PartnerTierRow(*row) for row in session.execute(
        select(Partner.id, Partner.name, Partner.code, Partner.price_tier_id)
        .order_by(Partner.name, Partner.id)
    )]
