"""CSV exports that are safe to open in a spreadsheet.

Formula injection: a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is prefixed with ``'`` so Excel, LibreOffice and Google Sheets show it as text instead of
running it (OWASP "CSV Injection"). Only text we did not write ourselves is neutralised: amounts
and quantities are numbers formatted by this module and stay numbers (never prefixed), so the
sheet can still add them up.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session, selectinload

from portal.core.vat import VAT_RATES
from portal.ordering.models import Order

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Amounts are net of VAT unless named vat or gross: line_total and order_total are net (as before
# VAT was added); vat_23 ... vat_0 are the order's VAT per rate (core.vat), blank for a rate it has
# no lines at. order_subtotal is the lines' net sum; order_credit what a credit (a referral reward)
# took off it, so order_total = order_subtotal - order_credit.
ORDER_COLUMNS = (
    "order_id", "ordered_at", "partner_code", "partner_name", "status", "source", "sku",
    "product_name", "quantity", "unit_price", "line_total", "order_total", "note",
    "po_reference", "vat_rate", "order_vat_total", "order_gross_total",
    *(f"vat_{rate}" for rate in VAT_RATES), "delivery_address", "order_subtotal", "order_credit",
)
CHUNK = 500  # orders fetched per round trip
FLUSH_AT = 64 * 1024  # characters buffered before a chunk is yielded


def neutralise(value: Any) -> str:
    """A cell's text; text that a spreadsheet would run as a formula gets a leading quote."""
    if value is None:
        return ""
    if not isinstance(value, str):
        return str(value)  # numbers and dates we format ourselves
    # A spreadsheet set to split on ";" (Polish Excel) makes each ";"-piece a cell of its own,
    # so every piece is guarded, not only the first: "Gate 4;=HYPERLINK(...)" keeps its text.
    return ";".join("'" + piece if piece.startswith(FORMULA_STARTS) else piece
                    for piece in value.split(";"))


def address_line(address: dict | None) -> str:
    """An order's delivery address in one line: "Main shop, Shop Ltd, Rynek 1, 00-950 Warszawa, PL"."""
    if not address:
        return ""
    parts = [address.get(key, "") for key in ("label", "recipient", "street", "street2")]
    parts += [f"{address.get('postal_code', '')} {address.get('city', '')}".strip(),
              address.get("country", ""), address.get("phone", "")]
    return ", ".join(part for part in parts if part)


def orders_csv(session: Session, stmt: Select[tuple[Order]]) -> Iterator[str]:
    """Stream the orders selected by ``stmt`` as CSV text: UTF-8 BOM, header, one row per line."""
    buffer = io.StringIO()
    out = csv.writer(buffer)  # RFC 4180: CRLF line ends, fields quoted where needed
    buffer.write(BOM)
    out.writerow(ORDER_COLUMNS)
    stmt = (
        stmt.options(selectinload(Order.partner), selectinload(Order.lines))
        .order_by(Order.created_at.desc(), Order.id.desc())
        .execution_options(yield_per=CHUNK)
    )
    for order in session.scalars(stmt):
        head = [
            order.id, order.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            neutralise(order.partner.code), neutralise(order.partner.name),
            neutralise(order.status), neutralise(order.source),
        ]
        per_rate = {r.rate: r.vat for r in order.vat_summary.rates}
        tail = [order.total, neutralise(order.note), neutralise(order.po_reference)]
        totals = [order.vat_total, order.gross_total, *(per_rate.get(rate, "") for rate in VAT_RATES),
                  neutralise(address_line(order.delivery_address)), order.subtotal, order.credit_applied]
        for line in order.lines or [None]:  # an order without lines still shows up
            if line is None:
                out.writerow([*head, "", "", "", "", "", *tail, "", *totals])
            else:
                out.writerow([*head, neutralise(line.sku), neutralise(line.name), line.quantity,
                              line.unit_price, line.line_total, *tail, line.vat_rate, *totals])
        if buffer.tell() >= FLUSH_AT:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
