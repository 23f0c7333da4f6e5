"""VAT as a Polish invoice computes it: per rate, on the sum of the net amounts at that rate.

Prices in Trellis are net. An order's VAT is not the sum of per-line VAT amounts: for each rate,
the net line totals at that rate are added up and the VAT of that sum is rounded once to the grosz,
half a grosz and more upwards (ROUND_HALF_UP; VAT Act art. 106e(11)). The gross total is the net
total plus those per-rate amounts, so the invoice's columns add up.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from portal.core.money import ZERO, to_money

VAT_RATES = (23, 8, 5, 0)  # the Polish rates, in percent
DEFAULT_VAT_RATE = 23


@dataclass(frozen=True)
class RateAmount:
    rate: int        # percent
    net: Decimal     # the sum of the net amounts at this rate
    vat: Decimal     # VAT on that sum, rounded once

    @property
    def gross(self) -> Decimal:
        return self.net + self.vat


@dataclass(frozen=True)
class VatSummary:
    rates: tuple[RateAmount, ...]  # highest rate first

    @property
    def net(self) -> Decimal:
        return sum((r.net for r in self.rates), ZERO)

    @property
    def vat(self) -> Decimal:
        return sum((r.vat for r in self.rates), ZERO)

    @property
    def gross(self) -> Decimal:
        return self.net + self.vat


def vat_of(net: Decimal, rate: int | Decimal) -> Decimal:
    """VAT on a net amount at a rate in percent, ROUND_HALF_UP to 0.01."""
    return to_money(Decimal(net) * Decimal(rate) / Decimal(100))


def summarise(lines: Iterable[tuple[int, Decimal]]) -> VatSummary:
    """The per-rate summary of (rate, net amount) lines."""
    sums: dict[int, Decimal] = {}
    for rate, net in lines:
        sums[rate] = sums.get(rate, ZERO) + net
    return VatSummary(tuple(RateAmount(rate, net, vat_of(net, rate))
                            for rate, net in sorted(sums.items(), reverse=True)))
