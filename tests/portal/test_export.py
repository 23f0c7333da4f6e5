"""Order CSV exports: one row per line, safe to open in a spreadsheet, unicode intact."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import event, select

from portal.models import Order
from portal.ordering import exports
from tests.portal.helpers import sign_in

FORMULA = "=cmd|' /C calc'!A0"


def export(db, stmt) -> str:
    return "".join(exports.orders_csv(db, stmt))


def rows(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:], newline="")))


@pytest.mark.parametrize("value, cell", [
    ("=1+1", "'=1+1"), ("+48 600 100 200", "'+48 600 100 200"), ("-5 boxes", "'-5 boxes"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"), (FORMULA, "'" + FORMULA),
    ("Tea = cheap", "Tea = cheap"), ("", ""), (None, ""),
    (Decimal("-1.50"), "-1.50"), (-3, "-3"), (12, "12"),  # numbers stay numbers
])
def test_neutralise_quotes_only_text_a_spreadsheet_would_run(value, cell):
    assert exports.neutralise(value) == cell


@pytest.mark.parametrize("value, cell", [
    ("Gate 4;=HYPERLINK(\"http://x\")", "Gate 4;'=HYPERLINK(\"http://x\")"),
    ("a;+1;-2;@x", "a;'+1;'-2;'@x"), ("=1;=2", "'=1;'=2"), ("one; two", "one; two"),
])
def test_neutralise_guards_every_piece_a_semicolon_spreadsheet_splits_into(value, cell):
    assert exports.neutralise(value) == cell
    for piece in exports.neutralise(value).split(";"):  # what Polish Excel puts in each cell
        assert not piece.startswith(exports.FORMULA_STARTS)


def test_export_has_a_bom_a_header_and_one_row_per_order_line(db, f):
    partner = f.partner(code="LAKE", name="Lakeside Grocers")
    tea = f.product(sku="TEA-1", name="Black tea", base_price=Decimal("3.20"))
    jam = f.product(sku="JAM-1", name="Jam", base_price=Decimal("2.15"))
    older = f.order(partner, lines=[(tea, 2), (jam, 3)], status="delivered", note="Back door",
                    created_at=datetime(2024, 3, 5, 12, 30, tzinfo=UTC))
    newer = f.order(partner, lines=[(jam, 1)], created_at=datetime(2024, 4, 1, 8, tzinfo=UTC))
    got = rows(export(db, select(Order).where(Order.partner_id == partner.id)))
    assert got[0] == list(exports.ORDER_COLUMNS)
    # ... note, po_reference, vat_rate, order_vat_total, order_gross_total, vat_23/8/5/0, address,
    # order_subtotal, order_credit
    assert got[1:] == [
        [str(newer.id), "2024-04-01T08:00:00Z", "LAKE", "Lakeside Grocers", "submitted", "portal",
         "JAM-1", "Jam", "1", "2.15", "2.15", "2.15", "", "", "23", "0.49", "2.64", "0.49", "", "", "", "",
         "2.15", "0.00"],
        [str(older.id), "2024-03-05T12:30:00Z", "LAKE", "Lakeside Grocers", "delivered", "portal",
         "TEA-1", "Black tea", "2", "3.20", "6.40", "12.85", "Back door", "", "23", "2.96", "15.81",
         "2.96", "", "", "", "", "12.85", "0.00"],
        [str(older.id), "2024-03-05T12:30:00Z", "LAKE", "Lakeside Grocers", "delivered", "portal",
         "JAM-1", "Jam", "3", "2.15", "6.45", "12.85", "Back door", "", "23", "2.96", "15.81",
         "2.96", "", "", "", "", "12.85", "0.00"],
    ]


def test_export_contains_only_the_orders_the_statement_selects(db, f):
    mine, theirs = f.partner(), f.partner()
    kept = f.order(mine)
    f.order(theirs)
    got = rows(export(db, select(Order).where(Order.partner_id == mine.id)))
    assert [row[0] for row in got[1:]] == [str(kept.id)]
    assert rows(export(db, select(Order).where(Order.id == -1))) == [list(exports.ORDER_COLUMNS)]


def test_formulas_in_notes_and_product_names_come_out_as_text(db, f):
    partner = f.partner(name="@Evil Shop")
    product = f.product(name=FORMULA)
    f.order(partner, lines=[(product, 2)], note=FORMULA)
    [row] = rows(export(db, select(Order).where(Order.partner_id == partner.id)))[1:]
    assert row[3] == "'@Evil Shop"
    assert row[7] == "'" + FORMULA
    assert row[12] == "'" + FORMULA
    assert row[8] == "2"  # numbers are not touched


def test_unicode_and_awkward_text_round_trip_through_utf8(db, f):
    partner = f.partner(name="Sklep ąęłńóśźż ĄĘŁŃÓŚŹŻ")
    product = f.product(name='Kiełbasa "śląska", 1 kg')
    f.order(partner, lines=[(product, 1)], note="Dostawa:\r\nrampa 2, Łódź")
    data = export(db, select(Order).where(Order.partner_id == partner.id)).encode("utf-8")
    assert data.startswith(b"\xef\xbb\xbf")
    [row] = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))[1:]
    assert row[3] == "Sklep ąęłńóśźż ĄĘŁŃÓŚŹŻ"
    assert row[7] == 'Kiełbasa "śląska", 1 kg'
    assert row[12] == "Dostawa:\r\nrampa 2, Łódź"


def test_export_runs_a_fixed_number_of_queries_however_many_orders(db, f, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK", 1000)
    products = [f.product() for _ in range(3)]
    partners = [f.partner() for _ in range(5)]
    for i in range(40):
        f.order(partners[i % 5], lines=[(p, i + 1) for p in products])
    statements = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    connection = db.connection()
    event.listen(connection, "before_cursor_execute", count)
    try:
        got = rows(export(db, select(Order)))
    finally:
        event.remove(connection, "before_cursor_execute", count)
    assert len(got) == 1 + 40 * 3
    assert len(statements) == 3, statements  # orders, then their partners and lines


def test_export_streams_in_chunks(db, f, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK", 2)
    monkeypatch.setattr(exports, "FLUSH_AT", 1)
    partner = f.partner()
    for _ in range(5):
        f.order(partner)
    chunks = list(exports.orders_csv(db, select(Order).where(Order.partner_id == partner.id)))
    assert len(chunks) > 2
    assert len(rows("".join(chunks))) == 6


def test_partner_downloads_their_orders_from_the_order_history(app, f):
    buyer = f.user(role="buyer")
    f.order(buyer.partner, note=FORMULA)
    client = app.test_client()
    sign_in(client, buyer)
    response = client.get("/orders/export.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")
    [row] = rows(response.data.decode("utf-8"))[1:]
    assert row[12] == "'" + FORMULA
