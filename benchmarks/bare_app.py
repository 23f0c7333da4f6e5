"""The bare reference app of /work/shared/notes/serving.md, to measure on the machine of the day.

Flask + SQLAlchemy 2 Core + psycopg 3 doing only the place-order hot path: one product query,
``Decimal`` totals, ``INSERT … ON CONFLICT (partner_id, idempotency_key) DO NOTHING RETURNING
id``, one executemany of the lines, one transaction. No sign-in, no validation beyond what the
arithmetic needs, no audit event, no order counter: the floor that Trellis's real path is
compared with. ``benchmarks/place_order.py`` serves it with gunicorn (``bare_app:app``, run from
this folder) on a schema of its own, with the same wrk load as the portal.

Environment: ``DATABASE_URL``, ``BARE_PARTNER_ID``, ``BARE_USER_ID``.
"""
from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from flask import Flask, jsonify, request
from sqlalchemy import bindparam, create_engine, select, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from portal.models import Order, OrderLine, Product  # noqa: E402

CENT = Decimal("0.01")
engine = create_engine(os.environ["DATABASE_URL"])
PARTNER_ID = int(os.environ["BARE_PARTNER_ID"])
USER_ID = int(os.environ["BARE_USER_ID"])

_insert = postgresql_insert if engine.dialect.name == "postgresql" else sqlite_insert
_P = Product.__table__.c
PRODUCTS = (select(_P.id, _P.sku, _P.name, _P.base_price)  # typed: base_price is a Decimal
            .where(_P.sku.in_(bindparam("skus", expanding=True)), _P.active))
INSERT_ORDER = (_insert(Order.__table__)
                .on_conflict_do_nothing(index_elements=["partner_id", "idempotency_key"])
                .returning(Order.__table__.c.id))
INSERT_LINES = OrderLine.__table__.insert()
EXISTING = text("SELECT id FROM orders WHERE partner_id = :partner AND idempotency_key = :key")

app = Flask(__name__)


@app.get("/healthz")
def healthz():
    return {"status": "ok"}


@app.post("/api/v1/orders")
def place_order():
    key = request.headers.get("Idempotency-Key", "")
    wanted = [(str(line["sku"]), int(line["quantity"])) for line in request.get_json()["lines"]]
    with engine.begin() as conn:
        products = {row.sku: row for row in conn.execute(PRODUCTS, {"skus": [s for s, _ in wanted]})}
        lines = []
        for sku, quantity in wanted:
            product = products[sku]
            lines.append({"product_id": product.id, "sku": sku, "name": product.name,
                          "quantity": quantity, "unit_price": product.base_price,
                          "line_total": (product.base_price * quantity).quantize(CENT, ROUND_HALF_UP)})
        now = datetime.now(UTC)
        order_id = conn.execute(INSERT_ORDER, {
            "partner_id": PARTNER_ID, "placed_by_id": USER_ID, "source": "api", "status": "submitted",
            "idempotency_key": key, "request_hash": "", "note": "", "created_at": now,
            "updated_at": now, "total": sum((line["line_total"] for line in lines), Decimal("0.00")),
        }).scalar()
        if order_id is None:
            return jsonify(id=conn.execute(EXISTING, {"partner": PARTNER_ID, "key": key}).scalar()), 200
        conn.execute(INSERT_LINES, [{**line, "order_id": order_id} for line in lines])
    return jsonify(id=order_id), 201
