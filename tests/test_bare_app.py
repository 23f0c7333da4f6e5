"""The benchmark's bare reference app stores what it acknowledges (its figures are the baseline)."""
from __future__ import annotations

import importlib.util
import pathlib
import sys
from decimal import Decimal

from sqlalchemy import text

from portal.db import Base, make_engine

ROOT = pathlib.Path(__file__).parents[1]


def test_bare_app_stores_an_order_once_with_exact_totals(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'bare.db'}"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    from _common import seed_partner

    seed = seed_partner(engine, products=3)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("BARE_PARTNER_ID", str(seed["partner_id"]))
    monkeypatch.setenv("BARE_USER_ID", str(seed["buyer_id"]))
    spec = importlib.util.spec_from_file_location("bare_app", ROOT / "benchmarks" / "bare_app.py")
    bare = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bare)
    client = bare.app.test_client()
    skus = [sku for _id, sku, _name, _price in seed["products"]]
    body = {"lines": [{"sku": skus[0], "quantity": 3}, {"sku": skus[1], "quantity": 1}]}
    first = client.post("/api/v1/orders", json=body, headers={"Idempotency-Key": "k1"})
    again = client.post("/api/v1/orders", json=body, headers={"Idempotency-Key": "k1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json["id"] == again.json["id"]
    with engine.connect() as conn:
        orders = conn.execute(text("SELECT id, total FROM orders")).all()
        lines = conn.scalar(text("SELECT count(*) FROM order_lines"))
    prices = {sku: Decimal(str(price)) for _id, sku, _name, price in seed["products"]}
    assert len(orders) == 1 and lines == 2
    assert Decimal(str(orders[0].total)).quantize(Decimal("0.01")) == prices[skus[0]] * 3 + prices[skus[1]]
    bare.engine.dispose()
    engine.dispose()
    sys.modules.pop("_common", None)
