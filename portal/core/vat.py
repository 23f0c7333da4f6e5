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
    rates: tuple[RateAmount, ...]  # highest rate first, nets after the credit
    credit: Decimal = ZERO  # a credit taken off the net total (a referral reward), else 0

    @property
    def subtotal(self) -> Decimal:
        """The lines' net sum before the credit."""
        return self.net + self.credit

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


def summarise(lines: Iterable[tuple[int, Decimal]], credit: Decimal = ZERO) -> VatSummary:
    """The per-rate summary of (rate, net amount) lines, less ``credit`` off the net total.

    A credit (a discount on the whole order) lowers the taxable amount of every rate in
    proportion to its net sum, rounded to the grosz, the rounding's remainder on the highest
    rate that can take it; it is at most the lines' net sum (``credit_for`` caps it), so no
    rate's net goes below zero.
    """
    sums: dict[int, Decimal] = {}
    for rate, net in lines:
        sums[rate] = sums.get(rate, ZERO) + net
    ordered = sorted(sums.items(), reverse=True)
    if credit:
        ordered = _less_credit(ordered, Decimal(credit))
    return VatSummary(tuple(RateAmount(rate, net, vat_of(net, rate)) for rate, net in ordered),
                      credit=Decimal(credit) if credit else ZERO)


def _less_credit(sums: list[tuple[int, Decimal]], credit: Decimal) -> list[tuple[int, Decimal]]:
    total = sum((net for _rate, net in sums), ZERO)
    if credit < 0 or credit > total:
        raise ValueError("a credit is between 0 and the net total")
    shares = [min(net, to_money(credit * net / total)) for _rate, net in sums]
    left = credit - sum(shares, ZERO)
    for i, (_rate, net) in enumerate(sums):  # the rounding's remainder, a grosz or two either way
        step = max(min(left, net - shares[i]), -shares[i])
        shares[i] += step
        left -= step
    return [(rate, net - share) for (rate, net), share in zip(sums, shares, strict=True)]


def credit_for(net_total: Decimal, available: Decimal) -> Decimal:
    """How much of an available credit an order of ``net_total`` takes: never below a zero total."""
    return max(ZERO, min(Decimal(net_total), Decimal(available)))
