"""Reading order-history CSV files: records, the header, and each row checked against the database."""
from __future__ import annotations

import codecs
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import Partner
from portal.catalog.models import Product
from portal.core.csvfile import numbered_records
from portal.core.errors import ServiceError
from portal.ordering.cart import MAX_QUANTITY

REQUIRED_COLUMNS = ("partner_code", "order_date", "sku", "quantity", "unit_price")
OPTIONAL_COLUMNS = ("order_ref",)
MAX_CENTS = 999_999_999_999  # Numeric(12, 2)
MAX_REF = 100

_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_QTY_RE = re.compile(r"\d{1,6}")
_PRICE_RE = re.compile(r"(\d{1,10})(?:\.(\d{1,2}))?")


class BadRow(Exception):
    def __init__(self, problems: list[Callable[[], str]]):
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Row:
    partner_id: int
    ref: str
    day: date
    product_id: int
    quantity: int
    price: str
    cents: int  # unit price in cents


class RowReader:
    """Parses and checks rows against the partners and products of the database."""

    def __init__(self, session: Session, today: date):
        self.partners = dict(session.execute(select(Partner.code, Partner.id)).all())
        self.products = {sku: (pid, sku, name) for pid, sku, name in
                         session.execute(select(Product.id, Product.sku, Product.name))}
        self.skus = {pid: (sku, name) for sku, (pid, _s, name) in self.products.items()}
        self.today = today
        self.days: dict[str, date] = {}

    def header(self, rows: Iterator[tuple[int, list[str]]]) -> tuple[dict[str, int], list[str]]:
        first = next(rows, None)
        if first is None or not any(cell.strip() for cell in first[1]):
            raise ServiceError(_("The file is empty: the first line must name the columns "
                                 "%(cols)s.", cols=",".join(REQUIRED_COLUMNS)))
        names = [cell.strip().lower() for cell in first[1]]
        duplicated = sorted({n for n in names if names.count(n) > 1 and n})
        if duplicated:
            raise ServiceError(_("The header names a column twice: %(cols)s.",
                                 cols=", ".join(duplicated)))
        missing = [c for c in REQUIRED_COLUMNS if c not in names]
        if missing:
            raise ServiceError(_("Line %(n)d: the header lacks the columns %(missing)s (it needs "
                                 "%(cols)s, and may have order_ref).", n=first[0],
                                 missing=", ".join(missing), cols=",".join(REQUIRED_COLUMNS)))
        known = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
        return ({n: i for i, n in enumerate(names) if n in known},
                [n for n in names if n not in known])

    def parse(self, cells: list[str], columns: dict[str, int], width: int) -> Row:
        if len(cells) != width:
            raise BadRow([lambda: _("expected %(want)d fields, found %(got)d",
                                     want=width, got=len(cells))])
        problems: list[Callable[[], str]] = []
        code = cells[columns["partner_code"]].strip()
        partner_id = self.partners.get(code) or self.partners.get(code.upper())
        if partner_id is None:
            problems.append(lambda: _("unknown partner code %(code)s", code=code or '""'))
        sku = cells[columns["sku"]].strip()
        product = self.products.get(sku) or self.products.get(sku.upper())
        if product is None:
            problems.append(lambda: _("unknown SKU %(sku)s", sku=sku or '""'))
        day_text = cells[columns["order_date"]].strip()
        day = self.days.get(day_text)
        if day is None:
            day = self._day(day_text, problems)
        qty_text = cells[columns["quantity"]].strip()
        quantity = int(qty_text) if _QTY_RE.fullmatch(qty_text) else 0
        if not 1 <= quantity <= MAX_QUANTITY:
            problems.append(lambda: _("quantity %(value)s is not a whole number from 1 to %(max)d",
                                      value=qty_text or '""', max=MAX_QUANTITY))
        price = cells[columns["unit_price"]].strip()
        match = _PRICE_RE.fullmatch(price)
        cents = int(match[1]) * 100 + int((match[2] or "0").ljust(2, "0")) if match else 0
        if match is None:
            problems.append(lambda: _("unit price %(value)s is not an amount like 12.50 "
                                      "(0 or more, at most 2 decimal places)", value=price or '""'))
        elif cents * quantity > MAX_CENTS:
            problems.append(lambda: _("the line total is too large"))
        ref = cells[columns["order_ref"]].strip() if "order_ref" in columns else ""
        if len(ref) > MAX_REF:
            problems.append(lambda: _("order_ref is longer than %(max)d characters", max=MAX_REF))
        if problems:
            raise BadRow(problems)
        return Row(partner_id, ref or day_text, day, product[0], quantity, price, cents)

    def _day(self, text: str, problems: list[Callable[[], str]]) -> date | None:
        try:
            if not _DATE_RE.fullmatch(text):
                raise ValueError
            day = date.fromisoformat(text)
        except ValueError:
            problems.append(lambda: _("order date %(value)s is not a date like 2024-01-31",
                                      value=text or '""'))
            return None
        if day > self.today:
            problems.append(lambda: _("order date %(value)s is in the future", value=text))
            return None
        self.days[text] = day
        return day


def read_records(path: str | os.PathLike[str]) -> Iterator[tuple[int, list[str]]]:
    """(first line number, cells) per CSV record; refuses bytes that are not UTF-8."""

    def lines() -> Iterator[str]:
        with open(path, "rb") as fh:
            for n, raw in enumerate(fh, start=1):
                if n == 1 and raw.startswith(codecs.BOM_UTF8):
                    raw = raw[len(codecs.BOM_UTF8):]
                try:
                    yield raw.decode("utf-8")
                except UnicodeDecodeError:
                    raise ServiceError(_(
                        "Line %(n)d is not UTF-8 text. Save the file as \"CSV UTF-8\" and try "
                        "again; nothing was imported.", n=n)) from None

    return numbered_records(lines())


