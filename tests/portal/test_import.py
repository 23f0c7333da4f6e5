"""`flask --app wsgi import orders FILE.csv`: all rows or none, and never twice."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.models import Order, OrderLine
from portal.ordering import history_import as importer

HEADER = "partner_code,order_date,sku,quantity,unit_price"


@pytest.fixture
def catalog(f):
    """Two partners and three products, one of them no longer sold."""
    return {
        "north": f.partner(code="NORTH"), "south": f.partner(code="SOUTH"),
        "tea": f.product(sku="TEA-1", name="Black tea", base_price=Decimal("3.20")),
        "jam": f.product(sku="JAM-1", name="Strawberry jam", base_price=Decimal("2.10")),
        "old": f.product(sku="OLD-1", name="Discontinued candles", base_price=Decimal("1.00"),
                         active=False),
    }


def write(tmp_path, text: str, name: str = "orders.csv", encoding: str = "utf-8") -> str:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def run(app, path: str):
    return app.test_cli_runner().invoke(args=["import", "orders", path])


def imported(db) -> list[Order]:
    db.expire_all()
    return list(db.scalars(select(Order).where(Order.source == "import")
                           .order_by(Order.partner_id, Order.external_ref)))


def line_count(db) -> int:
    return db.scalar(select(func.count()).select_from(OrderLine))


def test_bad_rows_are_reported_with_their_line_numbers_and_nothing_is_imported(app, db, catalog,
                                                                               tmp_path):
    path = write(tmp_path, "\n".join([
        HEADER,
        "NORTH,2024-03-05,TEA-1,2,3.20",      # 2: fine
        "WEST,2024-03-05,TEA-1,2,3.20",       # 3
        "NORTH,2024-03-05,NOPE-9,2,3.20",     # 4
        "NORTH,2024-13-01,TEA-1,2,3.20",      # 5
        "NORTH,05/03/2024,TEA-1,2,3.20",      # 6
        "NORTH,2999-01-01,TEA-1,2,3.20",      # 7
        "NORTH,2024-03-06,TEA-1,0,3.20",      # 8
        "NORTH,2024-03-06,JAM-1,1.5,3.20",    # 9
        "NORTH,2024-03-07,TEA-1,100001,3.20",  # 10
        "NORTH,2024-03-07,JAM-1,2,-1",        # 11
        "NORTH,2024-03-08,TEA-1,2,1.234",     # 12
        "NORTH,2024-03-08,JAM-1,2,abc",       # 13
        "NORTH,2024-03-09,TEA-1,2",           # 14
    ]) + "\n")
    result = run(app, path)
    assert result.exit_code == 2, result.output
    assert "12 of 13 rows have errors; nothing was imported." in result.output
    for line, message in [
        (3, "unknown partner code WEST"), (4, "unknown SKU NOPE-9"),
        (5, "order date 2024-13-01 is not a date"), (6, "order date 05/03/2024 is not a date"),
        (7, "order date 2999-01-01 is in the future"), (8, "quantity 0 is not a whole number"),
        (9, "quantity 1.5 is not a whole number"), (10, "quantity 100001 is not a whole number"),
        (11, "unit price -1 is not an amount"), (12, "unit price 1.234 is not an amount"),
        (13, "unit price abc is not an amount"), (14, "expected 5 fields, found 4"),
    ]:
        assert f"Line {line}: {message}" in result.output
    assert "Line 2:" not in result.output
    assert imported(db) == [] and line_count(db) == 0


def test_every_problem_of_a_row_is_named_at_once(app, catalog, tmp_path):
    path = write(tmp_path, f"{HEADER}\nWEST,2999-01-01,NOPE,x,1.001\n")
    result = run(app, path)
    assert result.exit_code == 2
    assert ("Line 2: unknown partner code WEST; unknown SKU NOPE; order date 2999-01-01 is in the "
            "future; quantity x is not a whole number") in result.output


def test_a_long_list_of_errors_shows_the_first_50_and_counts_the_rest(app, db, catalog, tmp_path):
    path = write(tmp_path, HEADER + "\n" + "NORTH,2024-03-05,NOPE,1,1.00\n" * 60)
    result = run(app, path)
    assert result.exit_code == 2
    assert "60 of 60 rows have errors" in result.output
    assert "Line 51: unknown SKU NOPE" in result.output
    assert "Line 52:" not in result.output
    assert "…and 10 more." in result.output


@pytest.mark.parametrize("header, missing", [
    ("partner_code,order_date,sku,quantity", "unit_price"),
    ("partner,date,sku,qty,price", "partner_code, order_date, quantity, unit_price"),
])
def test_a_header_without_the_required_columns_is_refused(app, db, catalog, tmp_path, header,
                                                          missing):
    path = write(tmp_path, f"{header}\nNORTH,2024-03-05,TEA-1,2,3.20\n")
    result = run(app, path)
    assert result.exit_code == 2
    assert f"the header lacks the columns {missing}" in result.output
    assert imported(db) == []


def test_an_empty_file_or_one_without_rows_is_refused(app, catalog, tmp_path):
    assert "The file is empty" in run(app, write(tmp_path, "")).output
    result = run(app, write(tmp_path, HEADER + "\n", name="header-only.csv"))
    assert result.exit_code == 2 and "no rows" in result.output


def test_orders_are_grouped_by_order_ref_with_exact_decimal_totals(app, db, catalog, tmp_path):
    path = write(tmp_path, "\n".join([
        "order_ref,partner_code,order_date,sku,quantity,unit_price",
        "INV-1,NORTH,2024-03-05,TEA-1,3,0.35",
        "INV-1,NORTH,2024-03-05,OLD-1,7,1.15",
        "INV-2,NORTH,2024-03-05,TEA-1,1,0.10",
        "INV-1,SOUTH,2024-03-06,JAM-1,100000,0",
        "INV-2,NORTH,2024-03-05,JAM-1,2,0.1",
    ]))
    result = run(app, path)
    assert result.exit_code == 0, result.output
    north1, north2, south1 = imported(db)
    assert [o.external_ref for o in (north1, north2, south1)] == ["INV-1", "INV-2", "INV-1"]
    assert north1.partner_id == catalog["north"].id and south1.partner_id == catalog["south"].id
    assert north1.total == Decimal("9.10")   # 3 x 0.35 + 7 x 1.15
    assert north2.total == Decimal("0.30")   # 0.10 + 2 x 0.1, not 0.30000000000000004
    assert south1.total == Decimal("0.00")
    assert [(line.sku, line.name, line.quantity, line.unit_price, line.line_total)
            for line in north1.lines] == [
        ("TEA-1", "Black tea", 3, Decimal("0.35"), Decimal("1.05")),
        ("OLD-1", "Discontinued candles", 7, Decimal("1.15"), Decimal("8.05")),
    ]
    for order in (north1, north2, south1):
        assert (order.source, order.status, order.placed_by_id) == ("import", "delivered", None)
    assert north1.created_at == datetime(2024, 3, 5, 12, tzinfo=UTC)
    assert south1.created_at == datetime(2024, 3, 6, 12, tzinfo=UTC)


def test_without_order_ref_one_order_is_one_partners_day(app, db, catalog, tmp_path):
    path = write(tmp_path, "\n".join([
        HEADER,
        "NORTH,2024-03-05,TEA-1,2,3.20",
        "SOUTH,2024-03-05,TEA-1,1,3.00",
        "north,2024-03-05,jam-1,1,2.10",   # codes and SKUs match as typed or upper-cased
        "NORTH,2024-03-06,TEA-1,1,3.20",
    ]))
    result = run(app, path)
    assert result.exit_code == 0, result.output
    orders = imported(db)
    assert [(o.partner.code, o.external_ref, o.total, len(o.lines)) for o in orders] == [
        ("NORTH", "2024-03-05", Decimal("8.50"), 2),
        ("NORTH", "2024-03-06", Decimal("3.20"), 1),
        ("SOUTH", "2024-03-05", Decimal("3.00"), 1),
    ]


def test_the_same_sku_twice_in_one_order_or_one_ref_on_two_days_is_refused(app, db, catalog,
                                                                           tmp_path):
    path = write(tmp_path, "\n".join([
        "partner_code,order_date,sku,quantity,unit_price,order_ref",
        "NORTH,2024-03-05,TEA-1,2,3.20,",
        "NORTH,2024-03-05,TEA-1,1,3.20,",
        "NORTH,2024-03-05,JAM-1,1,2.10,INV-7",
        "NORTH,2024-03-06,TEA-1,1,3.20,INV-7",
    ]))
    result = run(app, path)
    assert result.exit_code == 2
    assert "Line 3: SKU TEA-1 is already in order 2024-03-05 on an earlier line" in result.output
    assert "Line 5: order INV-7 is dated 2024-03-05 on an earlier line" in result.output
    assert imported(db) == []


def test_importing_the_same_file_twice_adds_nothing_the_second_time(app, db, catalog, tmp_path):
    path = write(tmp_path, "\n".join([
        HEADER,
        "NORTH,2024-03-05,TEA-1,2,3.20",
        "NORTH,2024-03-05,JAM-1,1,2.10",
        "SOUTH,2024-03-07,TEA-1,1,3.00",
    ]))
    first = run(app, path)
    assert first.exit_code == 0, first.output
    assert "Orders created: 2" in first.stdout and "Lines added: 3" in first.stdout
    before = [(o.id, o.total, len(o.lines)) for o in imported(db)]
    second = run(app, path)
    assert second.exit_code == 0, second.output
    assert "Orders created: 0" in second.stdout and "Lines added: 0" in second.stdout
    assert "Lines skipped as already imported: 3" in second.stdout
    assert [(o.id, o.total, len(o.lines)) for o in imported(db)] == before
    assert line_count(db) == 3


def test_a_second_file_with_one_extra_line_adds_just_that_line(app, db, catalog, tmp_path):
    rows = ["NORTH,2024-03-05,TEA-1,2,3.20,INV-1", "NORTH,2024-03-05,JAM-1,1,2.10,INV-1"]
    header = HEADER + ",order_ref"
    assert run(app, write(tmp_path, "\n".join([header, rows[0]]), name="a.csv")).exit_code == 0
    [order] = imported(db)
    assert order.total == Decimal("6.40")
    result = run(app, write(tmp_path, "\n".join([header, *rows]), name="b.csv"))
    assert result.exit_code == 0, result.output
    assert "Orders created: 0" in result.stdout and "Orders given more lines: 1" in result.stdout
    assert "Lines added: 1" in result.stdout
    assert "Lines skipped as already imported: 1" in result.stdout
    [again] = imported(db)
    assert again.id == order.id
    assert [line.sku for line in again.lines] == ["TEA-1", "JAM-1"]
    assert again.total == Decimal("8.50")


def test_a_utf8_bom_and_crlf_line_ends_are_accepted(app, db, catalog, tmp_path):
    path = write(tmp_path, "\ufeff" + HEADER + ",order_ref\r\n"
                 + 'NORTH,2024-03-05,TEA-1,2,3.20,"Zamówienie ąęłńóśźż, nr 1"\r\n')
    result = run(app, path)
    assert result.exit_code == 0, result.output
    [order] = imported(db)
    assert order.external_ref == "Zamówienie ąęłńóśźż, nr 1"


def test_a_file_that_is_not_utf8_is_refused_with_the_line(app, db, catalog, tmp_path):
    path = write(tmp_path, HEADER + ",order_ref\nNORTH,2024-03-05,TEA-1,2,3.20,A\n"
                 "NORTH,2024-03-05,JAM-1,2,3.20,Łódź\n", encoding="cp1250")
    result = run(app, path)
    assert result.exit_code == 2
    assert "Line 3 is not UTF-8 text" in result.output and "CSV UTF-8" in result.output
    assert imported(db) == []


def test_progress_goes_to_stderr_and_the_summary_to_stdout(app, catalog, tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "PROGRESS_EVERY", 2)
    path = write(tmp_path, "\n".join([HEADER, "NORTH,2024-03-05,TEA-1,2,3.20",
                                      "NORTH,2024-03-06,TEA-1,2,3.20",
                                      "NORTH,2024-03-07,TEA-1,2,3.20", ""]) + "\n,,,,\n")
    result = run(app, path)
    assert result.exit_code == 0, result.output
    progress = [line.split(" (")[0] for line in result.stderr.splitlines()]
    assert progress == ["Validated 2 rows", "Validated 3 rows",
                        "Imported 2 rows", "Imported 3 rows"]
    assert result.stdout.splitlines() == [
        "Rows read: 3", "Orders created: 3", "Orders given more lines: 0", "Lines added: 3",
        "Lines skipped as already imported: 0",
    ]


def test_unknown_extra_columns_are_ignored_and_named(app, db, catalog, tmp_path):
    path = write(tmp_path, f"{HEADER},comment\nNORTH,2024-03-05,TEA-1,2,3.20,hello\n")
    result = run(app, path)
    assert result.exit_code == 0, result.output
    assert "Ignored columns: comment" in result.stdout


def test_a_crash_during_the_import_leaves_nothing_behind(app, db, catalog, tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "BATCH", 1)

    def crash(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(importer.audit, "record", crash)  # after every insert, before the commit
    path = write(tmp_path, f"{HEADER}\nNORTH,2024-03-05,TEA-1,2,3.20\n"
                           "NORTH,2024-03-06,TEA-1,2,3.20\n")
    result = run(app, path)
    assert isinstance(result.exception, RuntimeError)
    assert imported(db) == [] and line_count(db) == 0


def test_the_service_reports_progress_and_counts(app, db, catalog, tmp_path):
    path = write(tmp_path, f"{HEADER}\nSOUTH,2024-03-05,JAM-1,4,2.50\n")
    calls = []
    with app.app_context():
        result = importer.import_orders(db, path, progress=lambda *a: calls.append(a))
    assert calls == [("validated", 1), ("imported", 1)]
    assert (result.rows, result.orders_created, result.lines_added) == (1, 1, 1)
    assert imported(db)[0].total == Decimal("10.00")


def test_a_failed_import_leaves_nothing_for_the_caller_to_commit(app, db, catalog, tmp_path,
                                                                  monkeypatch):
    def crash(*args, **kwargs):
        raise RuntimeError("connection lost")

    monkeypatch.setattr(importer, "_add_lines", crash)  # after the orders were inserted
    path = write(tmp_path, f"{HEADER}\nNORTH,2024-03-05,TEA-1,2,3.20\n")
    with app.app_context(), pytest.raises(RuntimeError):
        importer.import_orders(db, path)
    db.commit()
    assert imported(db) == []
