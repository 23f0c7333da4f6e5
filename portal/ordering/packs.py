"""The pack rule: a product sold in packs of N is ordered in whole packs, rounded up.

One rule everywhere a quantity enters (cart add and set, quick order, checkout, reorder, the
API): 5 bottles of a 24-pack become 24, and the caller is told ("Rounded up to 24 (1 pack of
24)") instead of the quantity going through silently. Rounding up never ships less than asked,
and the wholesaler only ships whole packs.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import ngettext

from portal.web.formatting import number


def round_up(quantity: int, pack_size: int) -> int:
    """The smallest whole number of packs holding at least ``quantity``, in units."""
    size = max(pack_size, 1)
    return -(-quantity // size) * size


@dataclass(frozen=True)
class Rounded:
    """A quantity changed by the pack rule."""

    sku: str
    name: str
    asked: int
    quantity: int
    pack_size: int

    @property
    def packs(self) -> int:
        return self.quantity // self.pack_size

    def note(self) -> str:
        """"Rounded up to 24 (1 pack of 24)", for pages."""
        packs = ngettext("%(packs)s pack of %(size)s", "%(packs)s packs of %(size)s", self.packs,
                         packs=number(self.packs), size=number(self.pack_size))
        return _("%(name)s: %(asked)s rounded up to %(quantity)s (%(packs)s).", name=self.name,
                 asked=number(self.asked), quantity=number(self.quantity), packs=packs)


def whole_packs(sku: str, name: str, quantity: int, pack_size: int) -> tuple[int, Rounded | None]:
    """The quantity to order under the pack rule, and what was changed (None: nothing)."""
    packed = round_up(quantity, pack_size)
    return packed, (Rounded(sku, name, quantity, packed, pack_size) if packed != quantity else None)
