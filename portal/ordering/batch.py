"""Placing many orders in one transaction (standing orders' daily generation).

The same steps as ``orders.place_order`` (checkout and the API): each order is checked and priced
by ``orders.prepare`` (pack sizes, VAT, totals, the delivery address copy), stored with its lines,
the partner's order count and its audit event, and given its thank-you milestone by
``orders.placed``. What a batch saves is round trips: the prices are read once per price tier and
the default addresses once (``prefetch``), the orders are stored in one statement
(``store.store_orders``) and their thank-you notes queued in one (``outbox.queue_many``). The
caller commits.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from portal.accounts import addresses
from portal.catalog import browse as catalog
from portal.core.access import Actor, PartnerRef
from portal.core.errors import ServiceError
from portal.notifications import outbox
from portal.ordering import orders
from portal.ordering.store import store_orders


@dataclass(frozen=True)
class Prefetched:
    """Products at each price tier's prices (by SKU) and each company's default address copy."""

    prices: dict[int | None, dict[str, catalog.PricedProduct]]
    addresses: dict[int, dict]

    def products(self, partner: PartnerRef) -> dict[str, catalog.PricedProduct]:
        return self.prices[partner.price_tier_id]

    def address(self, partner_id: int) -> dict | None:
        return self.addresses.get(partner_id)


def prefetch(session: Session, partners: Iterable[PartnerRef], skus: Iterable[str]) -> Prefetched:
    """What ``place_order`` reads per order, for every order of a batch at once (helper, no commit)."""
    by_tier: dict[int | None, PartnerRef] = {}
    partner_ids = set()
    for partner in partners:
        by_tier.setdefault(partner.price_tier_id, partner)
        partner_ids.add(partner.id)
    wanted = sorted(set(skus))
    return Prefetched(
        prices={tier: catalog.priced_by_sku(session, partner, wanted) for tier, partner in by_tier.items()},
        addresses=addresses.default_copies(session, partner_ids),
    )


@dataclass(frozen=True)
class OrderRequest:
    actor: Actor  # acting for the partner the order is for
    lines: Sequence[orders.LineRequest]
    options: dict  # place_order's keyword arguments: key, source, note, po_reference, address_id...


def place_orders(session: Session, requests: Sequence[OrderRequest], prefetched: Prefetched
                 ) -> list[orders.PlaceResult | ServiceError]:
    """Place many orders in the caller's transaction (helper, no commit): each one's result, or
    the ServiceError that refused it (a refused order writes nothing; the others go on)."""
    results: list[orders.PlaceResult | ServiceError | orders.Prepared] = []
    for request in requests:
        try:
            results.append(orders.prepare(session, request.actor, request.lines,
                                          prefetched=prefetched, **request.options))
        except ServiceError as err:
            results.append(err)
    todo = [n for n, result in enumerate(results) if isinstance(result, orders.Prepared)]
    stored = store_orders(session, [(results[n].values, results[n].lines, results[n].audit_detail)
                                    for n in todo])
    notes: list[dict] = []  # the thank-you notes, queued in one statement
    for n, done in zip(todo, stored, strict=True):
        actor, prepared = requests[n].actor, results[n]
        results[n] = (orders.replay_taken(session, actor, prepared) if done is None
                      else orders.placed(session, actor, prepared, *done, notes=notes))
    outbox.queue_many(session, notes)
    return results
