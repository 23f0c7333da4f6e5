"""Placing many orders in one transaction (standing orders' daily generation).

The prices of a whole batch are read in one query per price tier and the companies' default
addresses in one query, instead of two queries per order; each order is then placed by
``orders.place_order(..., prefetched=..., commit=False)``, the same use case as checkout and the
API (pricing, pack sizes, VAT, totals, audit, thank-you milestones), and the caller commits.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from portal.accounts import addresses
from portal.catalog import browse as catalog
from portal.core.access import PartnerRef


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
