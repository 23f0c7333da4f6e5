"""Price tier maths and money rounding."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from portal.catalog.pricing import unit_price
from portal.core.access import Actor
from portal.models import Order
from portal.ordering import orders
from tests.portal.factories import PASSWORD

prices = st.decimals(min_value=Decimal("0"), max_value=Decimal("99999.99"), places=2)
discounts = st.decimals(min_value=Decimal("0"), max_value=Decimal("100"), places=2)


@given(prices, discounts)
def test_discounted_price_is_rounded_half_up_to_cents(base, discount):
    price = unit_price(base, discount)
    exact = base * (100 - discount) / 100
    assert price == exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert Decimal("0") <= price <= base
    assert price.as_tuple().exponent == -2


def test_half_cent_rounds_up_not_to_even():
    assert unit_price(Decimal("0.25"), Decimal("10")) == Decimal("0.23")   # 0.225 -> 0.23
    assert unit_price(Decimal("0.05"), Decimal("50")) == Decimal("0.03")   # 0.025 -> 0.03


def test_explicit_tier_price_wins_over_discount():
    assert unit_price(Decimal("10.00"), Decimal("50"), Decimal("8.40")) == Decimal("8.40")


# Each example makes its own tier, partner and products, so sharing the app is safe.
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(prices, st.integers(min_value=1, max_value=1000)), min_size=1, max_size=6),
       discounts)
def test_order_total_is_the_sum_of_rounded_lines_and_round_trips_exactly(app, lines, discount):
    db = app.extensions["trellis.session_factory"]()
    try:
        from tests.portal.factories import Factories

        f = Factories(db)
        tier = f.tier(discount_percent=discount)
        partner = f.partner(price_tier_id=tier.id)
        user = f.user(partner=partner)
        requests = []
        for base, qty in lines:
            product = f.product(base_price=base)
            requests.append(orders.LineRequest(product.sku, qty))
        with app.app_context():
            result = orders.place_order(db, Actor.of(user), requests, key=f"k-{tier.id}")
        db.expire_all()
        stored = db.scalar(select(Order).where(Order.id == result.order.id))
        expected_lines = [
            (unit_price(base, discount) * qty).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            for base, qty in lines
        ]
        assert sorted(line.line_total for line in stored.lines) == sorted(expected_lines)
        assert stored.total == sum(expected_lines, Decimal("0.00"))
        assert all(isinstance(line.unit_price, Decimal) for line in stored.lines)
    finally:
        db.close()


def test_large_amounts_round_trip_exactly(app, f, db):
    partner = f.partner()
    user = f.user(partner=partner, password=PASSWORD)
    product = f.product(base_price=Decimal("99999.99"), vat_rate=0)  # gross = net: the largest net
    with app.app_context():
        result = orders.place_order(db, Actor.of(user), [orders.LineRequest(product.sku, 99_999)], key="big")
    db.expire_all()
    stored = db.get(Order, result.order.id)
    assert (stored.total, stored.vat_total, stored.gross_total) == (
        Decimal("9999899000.01"), 0, Decimal("9999899000.01"))


def test_order_lines_store_awkward_product_names_and_prices_verbatim(app, f, db):
    # PostgreSQL stores the lines from one JSON parameter: quotes, backslashes, non-ASCII and
    # JSON-looking text must come back as typed, prices exact to the cent.
    partner = f.partner()
    user = f.user(partner=partner, password=PASSWORD)
    names = ['Crème "brûlée" \\ 5 cl', "O'Neill's stout 🍺", '{"sku": "x"}, null', "Żółć\ttab"]
    products = [f.product(name=name, base_price=Decimal("0.05") * (n + 1)) for n, name in enumerate(names)]
    with app.app_context():
        result = orders.place_order(db, Actor.of(user), [orders.LineRequest(p.sku, 3) for p in products],
                                    key="awkward")
    db.expire_all()
    stored = db.get(Order, result.order.id)
    got = sorted((line.name, line.unit_price, line.line_total, line.quantity) for line in stored.lines)
    want = sorted((p.name, p.base_price, p.base_price * 3, 3) for p in products)
    assert got == want
    assert [(line.name, line.line_total) for line in result.order.lines] == \
        [(p.name, p.base_price * 3) for p in products]
