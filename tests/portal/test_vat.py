"""VAT as a Polish invoice computes it: per rate on the net sum of that rate, ROUND_HALF_UP."""
from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from portal.core.access import Actor
from portal.core.vat import VAT_RATES, summarise, vat_of
from portal.models import Order
from portal.ordering import orders
from tests.portal.factories import Factories
from tests.portal.helpers import sign_in

CENT = Decimal("0.01")
amounts = st.decimals(min_value=Decimal("0"), max_value=Decimal("999999.99"), places=2)
rates = st.sampled_from(VAT_RATES)


def rounded(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@given(st.lists(st.tuples(rates, amounts), max_size=30))
def test_gross_is_net_plus_the_per_rate_vat_each_rounded_once_on_its_net_sum(lines):
    summary = summarise(lines)
    assert summary.gross == summary.net + sum((r.vat for r in summary.rates), Decimal("0"))
    assert summary.net == sum((net for _rate, net in lines), Decimal("0"))
    assert [r.rate for r in summary.rates] == sorted({rate for rate, _net in lines}, reverse=True)
    for r in summary.rates:
        net_sum = sum((net for rate, net in lines if rate == r.rate), Decimal("0"))
        assert r.net == net_sum
        assert r.vat == rounded(net_sum * r.rate / 100)  # the rounded rate × the rate's net sum
        assert r.vat.as_tuple().exponent == -2


@given(st.lists(amounts, min_size=2, max_size=10), rates)
def test_vat_on_the_sum_differs_from_summed_line_vat_by_at_most_half_a_grosz_per_line(nets, rate):
    per_line = sum((vat_of(net, rate) for net in nets), Decimal("0"))
    on_sum = summarise([(rate, net) for net in nets]).vat
    assert abs(per_line - on_sum) <= CENT * len(nets) / 2


def test_half_a_grosz_rounds_up_not_to_even():
    assert vat_of(Decimal("2.50"), 23) == Decimal("0.58")    # 0.575 -> 0.58, half-even 0.58
    assert vat_of(Decimal("10.50"), 23) == Decimal("2.42")   # 2.415 -> 2.42, half-even 2.42
    assert vat_of(Decimal("0.50"), 5) == Decimal("0.03")     # 0.025 -> 0.03, half-even 0.02
    assert vat_of(Decimal("1.50"), 5) == Decimal("0.08")     # 0.075 -> 0.08


def test_three_lines_at_one_rate_are_rounded_once_on_their_sum():
    # Each line's 23 % VAT is 0.0115 (0.01 rounded), three lines 0.03; on the sum 0.0345 -> 0.03.
    # With 0.07 a line: 0.0161 each (0.02, 0.06 summed), on the sum 0.21 × 23 % = 0.0483 -> 0.05.
    summary = summarise([(23, Decimal("0.07"))] * 3)
    assert (summary.net, summary.vat, summary.gross) == (Decimal("0.21"), Decimal("0.05"), Decimal("0.26"))


# Each example makes its own partner and products, so sharing the app is safe (see test_pricing).
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(amounts, st.integers(min_value=1, max_value=500), rates), min_size=1, max_size=6))
def test_an_order_stores_vat_per_rate_and_round_trips_exactly(app, lines):
    """Exact on PostgreSQL (NUMERIC) and SQLite alike: totals, rates as charged, one per line."""
    db = app.extensions["trellis.session_factory"]()
    try:
        f = Factories(db)
        partner = f.partner()
        user = f.user(partner=partner)
        requests, charged = [], []
        for price, qty, rate in lines:
            product = f.product(base_price=price, vat_rate=rate)
            requests.append(orders.LineRequest(product.sku, qty))
            charged.append((rate, rounded(price * qty)))
        with app.app_context():
            result = orders.place_order(db, Actor.of(user), requests, key=f"vat-{partner.id}")
        db.expire_all()
        stored = db.scalar(select(Order).where(Order.id == result.order.id))
        expected = summarise(charged)
        assert (stored.total, stored.vat_total, stored.gross_total) == (expected.net, expected.vat, expected.gross)
        assert stored.gross_total == stored.total + stored.vat_total
        assert sorted((line.vat_rate, line.line_total) for line in stored.lines) == sorted(charged)
        assert stored.vat_summary == expected
        assert all(isinstance(v, Decimal) for v in (stored.total, stored.vat_total, stored.gross_total))
        assert (result.order.vat_total, result.order.gross_total) == (expected.vat, expected.gross)
    finally:
        db.close()


def test_orders_keep_the_rate_charged_when_the_product_rate_changes(app, f, db):
    user = f.user()
    jam = f.product(base_price=Decimal("10.00"), vat_rate=23)
    with app.app_context():
        placed = orders.place_order(db, Actor.of(user), [orders.LineRequest(jam.sku, 1)], key="rate-1")
    jam.vat_rate = 5
    db.commit()
    db.expire_all()
    stored = db.get(Order, placed.order.id)
    assert [line.vat_rate for line in stored.lines] == [23] and stored.vat_total == Decimal("2.30")


def test_cart_checkout_and_order_pages_show_net_vat_per_rate_and_gross(app, f, db):
    user = f.user()
    water = f.product(name="Still water", base_price=Decimal("2.50"), vat_rate=23)   # 3 × 2.50 = 7.50
    milk = f.product(name="Milk", base_price=Decimal("1.10"), vat_rate=5)            # 5 × 1.10 = 5.50
    client = app.test_client()
    sign_in(client, user)
    for product, qty in ((water, 3), (milk, 5)):
        client.post("/cart/add", data={"product_id": product.id, "quantity": qty})
    # VAT 23 % on 7.50 = 1.725 -> 1.73; 5 % on 5.50 = 0.275 -> 0.28; gross 13.00 + 2.01 = 15.01.
    for page in (client.get("/cart").text, client.get("/checkout").text):
        assert "Net total" in page and "PLN\u00a013.00" in page
        assert "VAT 23% on PLN\u00a07.50" in page and "PLN\u00a01.73" in page
        assert "VAT 5% on PLN\u00a05.50" in page and "PLN\u00a00.28" in page
        assert "Gross total" in page and "PLN\u00a015.01" in page
    key = re.search(r'name="idempotency_key" type="hidden" value="(\w+)"', client.get("/checkout").text).group(1)
    thanks = client.post("/checkout", data={"idempotency_key": key}, follow_redirects=True).text
    order = db.scalar(select(Order))
    assert (order.total, order.vat_total, order.gross_total) == (Decimal("13.00"), Decimal("2.01"), Decimal("15.01"))
    detail = client.get(f"/orders/{order.id}").text
    for page in (thanks, detail):
        assert "VAT 23% on PLN\u00a07.50" in page and "PLN\u00a015.01" in page
    assert "PLN\u00a015.01" in client.get("/orders").text  # the gross column of the list


def test_polish_pages_write_vat_the_polish_way(app, f, db):
    user = f.user(locale="pl")
    water = f.product(base_price=Decimal("1234.50"), vat_rate=8)
    client = app.test_client()
    sign_in(client, user)
    client.post("/cart/add", data={"product_id": water.id, "quantity": 1})
    page = client.get("/cart").text
    # 8 % of 1234.50 = 98.76; gross 1333.26
    assert "VAT 8% od 1\u00a0234,50\u00a0zł" in page and "98,76\u00a0zł" in page
    assert "Razem brutto" in page and "1\u00a0333,26\u00a0zł" in page
