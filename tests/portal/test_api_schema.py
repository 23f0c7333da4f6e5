"""Property-based contract tests of the JSON API, generated from its own OpenAPI document.

schemathesis reads /api/v1/openapi.json and, for every operation, sends generated requests
(valid and invalid ones: its examples, coverage and fuzzing phases) in-process to the Flask app
(WSGI, no server) as a partner buyer with a bearer token, with products and orders in the
database. Every answer goes through schemathesis' checks: never a 5xx, only documented status
codes and content types, bodies (and headers) that match their schemas, invalid input rejected,
valid input not refused as malformed, credentials not ignored, undeclared methods a 405 with Allow.
"""
from __future__ import annotations

import os
from decimal import Decimal

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.core.result import Ok

from portal import create_app
from tests.portal.factories import PASSWORD
from tests.portal.helpers import BASE_CONFIG, basic, bearer, issue

# High enough that the generated calls of the token route never meet a 429 (a generated run
# must not depend on how many calls came before).
UNLIMITED = {"LOGIN_RATE_LIMIT_IP": "100000 per minute", "LOGIN_RATE_LIMIT_EMAIL": "100000 per minute",
             "REFERRAL_RATE_LIMIT_USER": "100000 per minute"}
# Fixed; a deeper local run: API_SCHEMA_MAX_EXAMPLES=300 API_SCHEMA_SEED=7 pytest ...
MAX_EXAMPLES = int(os.environ.get("API_SCHEMA_MAX_EXAMPLES", "25"))  # fuzzing examples per operation
SEED = int(os.environ.get("API_SCHEMA_SEED", "20250101"))

CONFIG = schemathesis.Config.from_dict({
    "seed": SEED,
    "generation": {
        "deterministic": True,
        "database": "none",  # no replay of examples stored by earlier runs
        "max-examples": MAX_EXAMPLES,
        # Credentials come from the test, not the generator (a "no Authorization" negative case
        # would be sent with the test's token anyway and then wrongly count as accepted).
        "with-security-parameters": False,
        # Unknown query parameters are ignored by design (webargs' EXCLUDE), not an error.
        "allow-extra-parameters": False,
    },
    # One operation at a time; sequences of calls are the example-based tests' job.
    "phases": {"stateful": {"enabled": False}},
    # The token route takes its credentials from the generator: no such user, odd encodings.
    "operations": [{"include-name": "POST /api/v1/tokens",
                    "generation": {"with-security-parameters": True}}],
    "checks": {
        # Schema-valid input can still break a rule the schema cannot express (a delivery date
        # in the past, an unknown SKU): the documented 422. Never a 400 or 415, though.
        "positive_data_acceptance": {"expected-statuses": ["2xx", "401", "403", "404", "409", "422"]},
    },
})


def _document_app():
    """An app only to serve the document, which does not depend on the database."""
    return create_app({**BASE_CONFIG, "DATABASE_URL": "sqlite://"})


# Built at module level: schemathesis.pytest.from_fixture does not work on pytest 9.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _document_app(), config=CONFIG)


@pytest.fixture
def world(make_app, f):
    """An app with a partner buyer, products and two orders (ids 1 and 2); returns (app, user)."""
    app = make_app(**UNLIMITED)
    partner = f.partner()
    user = f.user(partner=partner)
    water = f.product(sku="BEV-001", name="Still water", base_price=Decimal("1.05"))
    crisps = f.product(sku="SNA-001", name="Crisps", base_price=Decimal("2.50"))
    f.product(sku="OLD-001", name="No longer sold", active=False)
    f.order(partner, lines=((water, 3), (crisps, 1)))
    f.order(partner, lines=((water, 1),), status="shipped")
    return app, user


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_api_honours_its_openapi_document(case, world):
    # One database per operation: its examples run one after another on it.
    app, user = world
    if case.operation.label == "POST /api/v1/tokens":
        case.call_and_validate(app=app)  # generated basic credentials, or none
        case.call_and_validate(app=app, headers=basic(user.email, PASSWORD))
        return
    # A fresh token per example: DELETE /tokens revokes the one it is sent with.
    case.call_and_validate(app=app, headers=bearer(issue(app.test_client(), user)))


def test_the_document_is_valid_openapi_3_and_every_operation_declares_its_errors():
    schema.validate()  # the OpenAPI 3.0 meta-schema
    document = schema.raw_schema
    assert document["openapi"].startswith("3.")
    operations = [result.ok() for result in schema.get_all_operations() if isinstance(result, Ok)]
    assert len(operations) == len(list(schema.get_all_operations()))  # all of them resolved
    assert {op.label for op in operations} >= {
        "POST /api/v1/tokens", "DELETE /api/v1/tokens", "GET /api/v1/me", "GET /api/v1/products",
        "GET /api/v1/orders", "POST /api/v1/orders", "GET /api/v1/orders/{order_id}",
        "POST /api/v1/orders/{order_id}/cancel", "POST /api/v1/orders/{order_id}/reorder",
    }
    components = document["components"]
    problems = []
    for op in operations:
        raw = document["paths"][op.path][op.method.lower()]
        responses = {code: components["responses"][r["$ref"].rsplit("/", 1)[1]] if "$ref" in r else r
                     for code, r in raw["responses"].items()}
        declared = set(responses)
        params = raw.get("parameters", []) + document["paths"][op.path].get("parameters", [])
        wanted = {"default"}  # whatever else goes wrong (405, 503) still has a documented body
        if raw.get("security"):
            wanted.add("401")
        if raw.get("requestBody"):
            wanted |= {"400", "422"}  # malformed JSON; a body that breaks its schema
        if any(p["in"] in ("query", "header") for p in params):
            wanted.add("422")
        if op.path.startswith("/api/v1/orders"):
            wanted.add("403")  # partner users only
        if "{order_id}" in op.path:
            wanted.add("404")
        if missing := wanted - declared:
            problems.append(f"{op.label} does not declare {sorted(missing)}")
        for code, response in responses.items():
            if code == "default" or code >= "400":
                schema_ref = response.get("content", {}).get("application/json", {}).get("schema")
                if schema_ref != {"$ref": "#/components/schemas/ApiError"}:
                    problems.append(f"{op.label} {code} is not documented as an ApiError: {schema_ref}")
    assert not problems, "\n".join(problems)


# Boundaries the generator reaches only now and then (it found the PostgreSQL case).
@pytest.mark.parametrize("path", [
    "/api/v1/orders/2147483648", "/api/v1/orders/99999999999999999999",
    "/api/v1/orders/9223372036854775808/cancel", "/api/v1/orders/99999999999999999999/reorder",
])
def test_an_order_id_beyond_the_database_integer_is_a_404(world, path):
    app, user = world
    client = app.test_client()
    headers = {**bearer(issue(client, user)), "Idempotency-Key": "k-1"}
    call = client.post if path.endswith(("cancel", "reorder")) else client.get
    response = call(path, headers=headers)
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_the_last_representable_date_as_order_filter_is_answered(world):
    """The list runs to the midnight after date_to, which 9999-12-31 lacks: it bounds nothing."""
    app, user = world
    client = app.test_client()
    headers = bearer(issue(client, user))
    everything = client.get("/api/v1/orders", headers=headers).json["total"]
    assert everything > 0
    response = client.get("/api/v1/orders?date_to=9999-12-31", headers=headers)
    assert response.status_code == 200 and response.json["total"] == everything
    response = client.get("/api/v1/orders?date_from=9999-12-31&date_to=9999-12-31", headers=headers)
    assert response.status_code == 200 and response.json["total"] == 0


def test_an_order_total_beyond_the_money_column_is_a_422(world, f):
    app, user = world
    # Investment gold is VAT-exempt (0 %): its gross total is its net one.
    f.product(sku="GOLD-001", name="Gold bar", base_price=Decimal("9999999999.99"), vat_rate=0)  # MAX_PRICE
    client = app.test_client()
    response = client.post("/api/v1/orders", json={"lines": [{"sku": "GOLD-001", "quantity": 2}]},
                           headers={**bearer(issue(client, user)), "Idempotency-Key": "gold-1"})
    assert response.status_code == 422
    assert "the most one order can record" in response.json["error"]["message"]
    # Two lines that fit one by one but not together are refused the same way; nothing is stored.
    f.product(sku="HALF-001", name="Half bar", base_price=Decimal("6000000000.00"))
    response = client.post("/api/v1/orders", json={"lines": [{"sku": "HALF-001", "quantity": 1},
                                                              {"sku": "GOLD-001", "quantity": 1}]},
                           headers={**bearer(issue(client, user)), "Idempotency-Key": "gold-2"})
    assert response.status_code == 422
    just_fits = client.post("/api/v1/orders", json={"lines": [{"sku": "GOLD-001", "quantity": 1}]},
                            headers={**bearer(issue(client, user)), "Idempotency-Key": "gold-3"})
    assert just_fits.status_code == 201 and just_fits.json["total"] == "9999999999.99"
    # The gross total is what must fit: a net that fits is refused when its VAT does not.
    f.product(sku="JEWEL-001", name="Jewel", base_price=Decimal("9000000000.00"), vat_rate=23)
    response = client.post("/api/v1/orders", json={"lines": [{"sku": "JEWEL-001", "quantity": 1}]},
                           headers={**bearer(issue(client, user)), "Idempotency-Key": "gold-4"})
    assert response.status_code == 422 and "the most one order can record" in response.json["error"]["message"]
