"""A client generated from the OpenAPI document, used as an integrator would, against a live server.

openapi-python-client generates the package offline from the document written to a file
(--fail-on-warning: whatever it cannot type is a failure here); the calls go over HTTP to Trellis
served by werkzeug in a thread on 127.0.0.1 (a SQLite file, or PostgreSQL with TEST_DATABASE_URL),
as in tests/e2e/conftest.py. Nothing leaves the machine.
"""
from __future__ import annotations

import importlib
import json
import subprocess
import sys
from decimal import Decimal

import pytest

from portal import create_app
from tests.portal.factories import PASSWORD
from tests.portal.helpers import BASE_CONFIG

PACKAGE = "trellis_api_client"
# No post hooks: the default ones run ruff on the generated code, which the test does not need.
GENERATOR_CONFIG = "post_hooks: []\n"


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    """The generated package, imported; removed from sys.path and sys.modules afterwards."""
    app = create_app({**BASE_CONFIG, "DATABASE_URL": "sqlite://"})
    out = tmp_path_factory.mktemp("client")
    document, config = out / "openapi.json", out / "config.yaml"
    document.write_text(json.dumps(app.test_client().get("/api/v1/openapi.json").json))
    config.write_text(GENERATOR_CONFIG)
    result = subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(document),
         "--config", str(config), "--meta", "none", "--output-path", str(out / PACKAGE),
         "--fail-on-warning"],
        capture_output=True, text=True, timeout=120, cwd=out,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(out))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def test_a_generated_client_places_replays_reads_and_reorders_an_order(api, live):
    from trellis_api_client.api.me import get_me
    from trellis_api_client.api.orders_api import get_order, list_orders, place_order, reorder_order
    from trellis_api_client.api.products import list_products
    from trellis_api_client.api.tokens import issue_token, revoke_token
    from trellis_api_client.models import ApiError, LineIn, OrderIn, OrderOut, ReorderOut

    base_url, f = live
    user = f.user()
    f.product(sku="BEV-001", name="Still water", base_price=Decimal("1.05"))
    staff = f.user(role="admin")
    # trust_env off: no proxy from the environment, whatever it says; the server is local.
    options = {"raise_on_unexpected_status": True, "httpx_args": {"trust_env": False}}

    def signed_in(who):
        anonymous = api.Client(base_url=base_url, **{**options, "httpx_args": {
            **options["httpx_args"], "auth": (who.email, PASSWORD)}})
        token = issue_token.sync(client=anonymous)
        return api.AuthenticatedClient(base_url=base_url, token=token.token, **options)

    client = signed_in(user)
    me = get_me.sync(client=client)
    assert me.email == user.email and me.partner.code == user.partner.code
    assert get_me.sync(client=signed_in(staff)).partner is None  # a nullable reference

    products = list_products.sync(client=client)  # no q= nor category= sent
    assert [p.sku for p in products.items] == ["BEV-001"] and products.items[0].price == "1.05"

    body = OrderIn(lines=[LineIn(sku="BEV-001", quantity=3)], note="Gate 2")
    placed = place_order.sync_detailed(client=client, body=body, idempotency_key="order-1")
    assert placed.status_code == 201 and isinstance(placed.parsed, OrderOut)
    order = placed.parsed
    assert order.total == "3.15" and order.status == "submitted" and order.source == "api"
    assert order.requested_delivery_date is None and order.promised_date is None
    replay = place_order.sync_detailed(client=client, body=body, idempotency_key="order-1")
    assert replay.status_code == 200 and replay.parsed.id == order.id  # the same order back

    read = get_order.sync(client=client, order_id=order.id)
    assert (read.id, read.note, [(line.sku, line.quantity) for line in read.lines]) == (
        order.id, "Gate 2", [("BEV-001", 3)])

    again = reorder_order.sync_detailed(client=client, order_id=order.id, idempotency_key="reorder-1")
    assert again.status_code == 201 and isinstance(again.parsed, ReorderOut)
    assert again.parsed.order.id != order.id and again.parsed.order.source == "reorder"
    assert [(r.sku, r.quantity) for r in again.parsed.reordered] == [("BEV-001", 3)]
    assert again.parsed.unavailable == []

    # Paging until an empty page ends.
    pages = []
    while (page := list_orders.sync(client=client, per_page=1, page=len(pages) + 1)).items:
        pages.append(page.items[0].id)
        assert len(pages) <= 2
    assert pages == [again.parsed.order.id, order.id] and page.total == 2 and page.page == 3

    refused = place_order.sync(client=client, idempotency_key="order-2",
                               body=OrderIn(lines=[LineIn(sku="NOPE", quantity=1)]))
    assert isinstance(refused, ApiError) and refused.error.code == "invalid"
    assert refused.error.details.to_dict() == {"body": {"lines": ["Line 1: unknown SKU NOPE."]}}

    assert revoke_token.sync_detailed(client=client).status_code == 204
    assert isinstance(get_me.sync(client=client), ApiError)  # the 401, typed
