"""Ordering a past order again: into the cart (pages) or as a new order (the API)."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from portal.catalog import browse as catalog
from portal.core.access import Actor
from portal.ordering import cart, packs
from portal.ordering.orders import LineRequest
from portal.ordering.queries import get_order


@dataclass
class ReorderResult:
    reordered: list[tuple[str, int]] = field(default_factory=list)
    unavailable: list[tuple[str, str, int]] = field(default_factory=list)  # sku, name, quantity
    rounded: list[packs.Rounded] = field(default_factory=list)  # quantities the pack rule changed
    already_in_cart: int = 0  # products the cart held before (reorder into the cart)
    refused: list[tuple[str, str, str]] = field(default_factory=list)  # sku, name, why (cart full...)


def reorder_into_cart(session: Session, actor: Actor, order_id: int) -> ReorderResult:
    """Put a past order's products into the cart at today's prices, in whole packs; list what
    can't be."""
    order = get_order(session, actor.partner_id, order_id)
    products = catalog.priced_by_id(session, actor.partner, [line.product_id for line in order.lines])
    orderable = [(line, products[line.product_id]) for line in order.lines
                 if line.product_id in products and products[line.product_id].active]
    result = ReorderResult(already_in_cart=cart.count(session, actor))
    outcome = dict(zip((line.id for line, _p in orderable), cart.add_lines(
        session, actor, [(product, line.quantity) for line, product in orderable]), strict=True))
    for line in order.lines:  # in the order's order, as the flash messages are
        added = outcome.get(line.id)
        if added is None:
            result.unavailable.append((line.sku, line.name, line.quantity))
        elif added.problem is not None:
            result.refused.append((line.sku, line.name, str(added.problem)))
        else:
            result.reordered.append((products[line.product_id].sku, line.quantity))
            if added.rounded is not None:
                result.rounded.append(added.rounded)
    session.commit()
    return result


def reorder_lines(session: Session, actor: Actor, order_id: int) -> tuple[list[LineRequest], ReorderResult]:
    """A past order's lines that can be ordered today, and those that cannot."""
    order = get_order(session, actor.partner_id, order_id)
    products = catalog.priced_by_id(session, actor.partner, [line.product_id for line in order.lines])
    result = ReorderResult()
    lines = []
    for line in order.lines:
        product = products.get(line.product_id)
        if product is None or not product.active:
            result.unavailable.append((line.sku, line.name, line.quantity))
        else:
            lines.append(LineRequest(product.sku, line.quantity))
            result.reordered.append((product.sku, line.quantity))
    return lines, result
