"""The server-side cart of a partner user, and quick order by pasted lines or CSV."""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from portal.catalog import browse as catalog
from portal.core.access import Actor
from portal.core.errors import ServiceError
from portal.core.money import ZERO, to_money
from portal.core.vat import VatSummary, credit_for, summarise
from portal.ordering import packs
from portal.ordering.models import CartLine

MAX_QUANTITY = 100_000
MAX_LINES = 500
_SPLIT = re.compile(r"[\s,;]+")


@dataclass(frozen=True)
class CartItem:
    product: catalog.PricedProduct
    quantity: int  # as stored: whole packs, unless the pack size changed since

    @property
    def order_quantity(self) -> int:
        """What checkout will order: the quantity in whole packs (the pack rule)."""
        return packs.round_up(self.quantity, self.product.pack_size)

    @property
    def rounded(self) -> packs.Rounded | None:
        """Set when the pack size changed since the product was put in the cart."""
        return packs.whole_packs(self.product.sku, self.product.name, self.quantity,
                                 self.product.pack_size)[1]

    @property
    def line_total(self) -> Decimal:
        """Net of VAT."""
        return to_money(self.product.price * self.order_quantity)


@dataclass(frozen=True)
class CartView:
    items: list[CartItem]
    unavailable: list[CartItem]  # products deactivated since they were added
    credit_available: Decimal = ZERO  # the partner's credit (ordering.credits), taken at checkout

    @property
    def total(self) -> Decimal:
        """Net of VAT, before any credit."""
        return sum((item.line_total for item in self.items), ZERO)

    @property
    def vat(self) -> VatSummary:
        """VAT per rate on the net sums (core.vat) less the credit checkout will take, and the
        gross total."""
        return summarise(((item.product.vat_rate, item.line_total) for item in self.items),
                         credit_for(self.total, self.credit_available))


@dataclass(frozen=True)
class BadLine:
    line_no: int
    text: str
    reason: str


@dataclass
class QuickOrderResult:
    added: list[tuple[str, int]] = field(default_factory=list)
    errors: list[BadLine] = field(default_factory=list)
    rounded: list[packs.Rounded] = field(default_factory=list)


@dataclass(frozen=True)
class Added:
    """What one add did: ``problem`` when nothing was added, ``rounded`` when the pack rule
    changed the quantity."""

    problem: ServiceError | None = None
    rounded: packs.Rounded | None = None


def check_quantity(quantity: int) -> None:
    """Raise ServiceError unless 1 <= quantity <= MAX_QUANTITY."""
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not 1 <= quantity <= MAX_QUANTITY:
        raise ServiceError(
            _("Quantity must be a whole number from 1 to %(max)d.", max=MAX_QUANTITY), field="quantity"
        )


def view(session: Session, actor: Actor) -> CartView:
    """The cart at today's prices, in two queries."""
    rows = session.execute(
        select(CartLine.product_id, CartLine.quantity).where(CartLine.user_id == actor.user_id)
        .order_by(CartLine.id)
    ).all()
    priced = catalog.priced_by_id(session, actor.partner, [r.product_id for r in rows])
    items, unavailable = [], []
    for product_id, quantity in rows:
        item = CartItem(priced[product_id], quantity)
        (items if item.product.active else unavailable).append(item)
    return CartView(items, unavailable, actor.partner.credit_balance or ZERO)


def add_lines(session: Session, actor: Actor, wanted: Sequence[tuple[catalog.PricedProduct, int]]
              ) -> list[Added]:
    """Add (product, quantity) pairs in order, in three statements however many (no commit).

    Each line ends in whole packs (rounded up, reported). Returns, per pair, what happened: why
    it was not added (a quantity over the limit once added to what the cart holds, or a full
    cart), or how the pack rule rounded it.
    """
    rows = session.execute(
        select(CartLine.id, CartLine.product_id, CartLine.quantity).where(CartLine.user_id == actor.user_id)
    ).all()
    quantities = {row.product_id: row.quantity for row in rows}
    line_ids = {row.product_id: row.id for row in rows}
    outcome: list[Added] = []
    for product, quantity in wanted:
        held = quantities.get(product.id, 0)
        new_quantity = packs.round_up(held + quantity, product.pack_size)
        if product.id not in quantities and len(quantities) >= MAX_LINES:
            outcome.append(Added(ServiceError(_("A cart holds at most %(n)d lines.", n=MAX_LINES))))
            continue
        if not 1 <= new_quantity <= MAX_QUANTITY:
            outcome.append(Added(ServiceError(_("Quantity must be a whole number from 1 to %(max)d.",
                                                max=MAX_QUANTITY), field="quantity")))
            continue
        quantities[product.id] = new_quantity
        added = new_quantity - held
        outcome.append(Added(rounded=packs.Rounded(product.sku, product.name, quantity, added,
                                                   product.pack_size) if added != quantity else None))
    table = CartLine.__table__
    new_rows = [{"user_id": actor.user_id, "partner_id": actor.partner_id, "product_id": product_id,
                 "quantity": quantity} for product_id, quantity in quantities.items()
                if product_id not in line_ids]
    changed = [{"line_id": line_ids[row.product_id], "new_quantity": quantities[row.product_id]}
               for row in rows if quantities[row.product_id] != row.quantity]
    if new_rows:
        session.execute(insert(table), new_rows)
    if changed:
        session.execute(update(table).where(table.c.id == bindparam("line_id"))
                        .values(quantity=bindparam("new_quantity")), changed)
    return outcome


def add(session: Session, actor: Actor, product_id: int, quantity: int
        ) -> tuple[catalog.PricedProduct, packs.Rounded | None]:
    """Add a product to the cart (adding to the quantity already there), in whole packs."""
    check_quantity(quantity)
    product = catalog.priced_by_id(session, actor.partner, [product_id]).get(product_id)
    if product is None or not product.active:
        raise ServiceError(_("This product cannot be ordered."))
    added = add_lines(session, actor, [(product, quantity)])[0]
    if added.problem is not None:
        raise added.problem
    session.commit()
    return product, added.rounded


def set_quantity(session: Session, actor: Actor, product_id: int, quantity: int) -> packs.Rounded | None:
    """Change a cart line's quantity, rounded up to whole packs (returns the rounding, if any)."""
    check_quantity(quantity)
    line = session.scalar(
        select(CartLine).where(CartLine.user_id == actor.user_id, CartLine.product_id == product_id)
    )
    if line is None:
        raise ServiceError(_("This product is not in your cart."))
    product = catalog.priced_by_id(session, actor.partner, [product_id])[product_id]
    packed, rounded = packs.whole_packs(product.sku, product.name, quantity, product.pack_size)
    check_quantity(packed)
    line.quantity = packed
    session.commit()
    return rounded


def count(session: Session, actor: Actor) -> int:
    """How many products the user's cart holds."""
    return session.scalar(select(func.count(CartLine.id)).where(CartLine.user_id == actor.user_id)) or 0


def remove(session: Session, actor: Actor, product_id: int) -> None:
    """Take a product out of the cart."""
    session.execute(
        delete(CartLine).where(CartLine.user_id == actor.user_id, CartLine.product_id == product_id)
    )
    session.commit()


def consume(session: Session, actor: Actor, expected: dict[int, int]) -> bool:
    """Empty the cart if it holds exactly ``expected`` (product id -> quantity); helper, no commit.

    The DELETE takes the rows: a second checkout running at once waits for the first to commit
    and then finds nothing, so it is refused instead of ordering the cart twice.
    """
    table = CartLine.__table__
    taken = session.execute(
        delete(table).where(table.c.user_id == actor.user_id).returning(table.c.product_id, table.c.quantity)
    ).all()
    return dict(taken) == expected


def parse_lines(text: str) -> tuple[list[tuple[int, str, int]], list[BadLine]]:
    """Parse pasted `SKU quantity` lines or a `sku,quantity` CSV into (line_no, sku, qty).

    Raises ServiceError, without reading further, at the first line past MAX_LINES.
    """
    parsed: list[tuple[int, str, int]] = []
    errors: list[BadLine] = []
    lines = text.splitlines()
    numbered: Iterator[tuple[int, str, list[str]]]
    if lines and lines[0].lstrip("\ufeff").strip().lower().replace(" ", "") in ("sku,quantity", "sku;quantity"):
        rows = csv.reader(io.StringIO("\n".join(lines[1:])), delimiter="," if "," in lines[0] else ";")
        numbered = ((n, ",".join(row), row) for n, row in enumerate(rows, start=2))
    else:
        numbered = ((n, line, _SPLIT.split(line.strip())) for n, line in enumerate(lines, start=1))
    for line_no, raw, parts in numbered:
        parts = [p.strip() for p in parts if p.strip()]
        if not parts:
            continue
        if len(parsed) + len(errors) >= MAX_LINES:
            raise ServiceError(_("Quick order takes at most %(n)d lines at a time. Split the list "
                                 "and add it in parts; nothing was added.", n=MAX_LINES), field="lines")
        if len(parts) != 2:
            errors.append(BadLine(line_no, raw, _("Expected a SKU and a quantity.")))
            continue
        sku, qty_text = parts
        if not re.fullmatch(r"\d{1,6}", qty_text) or not 1 <= int(qty_text) <= MAX_QUANTITY:
            errors.append(BadLine(line_no, raw, _("Quantity must be a whole number from 1 to %(max)d.",
                                                  max=MAX_QUANTITY)))
            continue
        parsed.append((line_no, sku, int(qty_text)))
    return parsed, errors


def quick_order(session: Session, actor: Actor, text: str) -> QuickOrderResult:
    """Put every valid pasted line into the cart and report every invalid one with its reason.

    A constant number of queries however many lines; more than MAX_LINES lines add nothing.
    """
    parsed, errors = parse_lines(text)
    result = QuickOrderResult(errors=errors)
    products = catalog.priced_by_sku(session, actor.partner, [sku for _n, sku, _q in parsed])
    wanted: list[tuple[int, str, catalog.PricedProduct, int]] = []
    for line_no, sku, quantity in parsed:
        product = products.get(sku)
        raw = f"{sku} {quantity}"
        if product is None:
            result.errors.append(BadLine(line_no, raw, _("Unknown SKU.")))
        elif not product.active:
            result.errors.append(BadLine(line_no, raw, _("This product is no longer sold.")))
        else:
            wanted.append((line_no, raw, product, quantity))
    outcome = add_lines(session, actor, [(product, quantity) for _n, _r, product, quantity in wanted])
    for (line_no, raw, product, quantity), added in zip(wanted, outcome, strict=True):
        if added.problem is None:
            result.added.append((product.sku, added.rounded.quantity if added.rounded else quantity))
            if added.rounded is not None:
                result.rounded.append(added.rounded)
        else:
            result.errors.append(BadLine(line_no, raw, str(added.problem)))
    result.errors.sort(key=lambda bad: bad.line_no)
    session.commit()
    return result
