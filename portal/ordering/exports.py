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

from portal.ordering.models import Order

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ORDER_COLUMNS = (
    "order_id", "ordered_at", "partner_code", "partner_name", "status", "source", "sku",
    "product_name", "quantity", "unit_price", "line_total", "order_total", "note",
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
        tail = [order.total, neutralise(order.note)]
        for line in order.lines or [None]:  # an order without lines still shows up
            if line is None:
                out.writerow([*head, "", "", "", "", "", *tail])
            else:
                out.writerow([*head, neutralise(line.sku), neutralise(line.name), line.quantity,
                              line.unit_price, line.line_total, *tail])
        if buffer.tell() >= FLUSH_AT:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
