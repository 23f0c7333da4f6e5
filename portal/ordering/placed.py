"""What placing an order answers: the order just stored (plain values), and the result."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from portal.core.money import ZERO
from portal.core.vat import VatSummary, summarise
from portal.ordering import packs
from portal.ordering.models import Order


@dataclass(frozen=True)
class PlacedLine:
    product_id: int
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal
    vat_rate: int


@dataclass(frozen=True)
class PlacedOrder:
    """An order just stored, with the values written (read like an Order): plain values, as
    building and instrumenting ORM objects cost more CPU than the statement that stored them."""
    id: int
    partner_id: int
    placed_by_id: int
    source: str
    status: str
    idempotency_key: str
    request_hash: str
    requested_delivery_date: date | None
    note: str
    po_reference: str | None
    delivery_address: dict | None
    total: Decimal  # net
    vat_total: Decimal
    gross_total: Decimal
    created_at: datetime
    updated_at: datetime
    lines: tuple[PlacedLine, ...]
    promised_date: date | None = None
    delivered_at: datetime | None = None
    credit_applied: Decimal = ZERO  # taken off the lines' net sum (ordering.credits)

    @property
    def net_total(self) -> Decimal:
        return self.total

    @property
    def subtotal(self) -> Decimal:
        return self.total + self.credit_applied

    @property
    def vat_summary(self) -> VatSummary:
        return summarise(((line.vat_rate, line.line_total) for line in self.lines), self.credit_applied)


@dataclass
class PlaceResult:
    order: Order | PlacedOrder  # a replay answers with the stored Order
    created: bool
    thank_you: bool = False
    message: str | None = None  # why an earlier order answers instead of a new one
    rounded: list[packs.Rounded] = field(default_factory=list)  # lines the pack rule changed


