"""Quick order stays cheap: a line limit before parsing, and queries that do not grow with lines."""
from __future__ import annotations

import io
from contextlib import contextmanager
from decimal import Decimal

from sqlalchemy import event, func, select

from portal.models import CartLine
from portal.ordering.cart import MAX_LINES
from tests.portal.test_orders import buyer_with_catalog, signed_in


@contextmanager
def counted_statements(app):
    """Count the SQL statements the app's database bind (engine or connection) runs in the block."""
    bind = app.extensions["trellis.session_factory"].kw["bind"]
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(bind, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(bind, "before_cursor_execute", count)


def test_a_paste_over_the_line_limit_is_refused_and_adds_nothing(app, f, db):
    user, _tier, _water, _chips = buyer_with_catalog(f)
    client = signed_in(app, user)
    text = "\n".join(["BEV-001 1"] * (MAX_LINES + 1))
    response = client.post("/cart/quick", data={"lines": text})
    assert response.status_code == 422
    assert f"at most {MAX_LINES} lines at a time" in response.text
    assert db.scalar(select(func.count(CartLine.id))) == 0


def test_an_upload_of_twenty_thousand_lines_is_refused_and_adds_nothing(app, f, db):
    user, _tier, _water, _chips = buyer_with_catalog(f)
    client = signed_in(app, user)
    csv_bytes = ("sku,quantity\n" + "BEV-001,1\n" * 20_000).encode()
    response = client.post("/cart/quick", data={"file": (io.BytesIO(csv_bytes), "big.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert f"at most {MAX_LINES} lines at a time" in response.text
    assert db.scalar(select(func.count(CartLine.id))) == 0


def test_exactly_the_line_limit_is_accepted(app, f, db):
    user, _tier, _water, _chips = buyer_with_catalog(f)
    client = signed_in(app, user)
    text = "\n".join(["BEV-001 1"] * MAX_LINES) + "\n\n\n"  # blank lines do not count
    assert client.post("/cart/quick", data={"lines": text}).status_code == 302  # back to the cart
    assert db.scalar(select(CartLine.quantity)) == MAX_LINES


def test_quick_order_queries_do_not_grow_with_the_number_of_lines(app, f, db):
    user, _tier, _water, _chips = buyer_with_catalog(f)
    for n in range(60):
        f.product(sku=f"GEN-{n:03d}", base_price=Decimal("1.00"))
    client = signed_in(app, user)
    client.post("/cart/add", data={"product_id": _water.id, "quantity": 1})  # one line to update

    def statements_for(skus):
        with counted_statements(app) as statements:
            response = client.post("/cart/quick", data={"lines": "\n".join(f"{s} 2" for s in skus)})
        assert response.status_code == 302, response.text
        return len(statements)

    few = statements_for(["BEV-001", "GEN-000", "GEN-001"])
    many = statements_for(["BEV-001", *(f"GEN-{n:03d}" for n in range(2, 60))])
    assert many == few
    assert db.scalar(select(func.count(CartLine.id))) == 61
    assert db.scalar(select(CartLine.quantity).where(CartLine.product_id == _water.id)) == 5
