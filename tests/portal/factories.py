"""Plain factory functions with unique defaults (CTFd's gen_user, cookiecutter-flask)."""
from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal

from portal.accounts import passwords
from portal.core.vat import summarise
from portal.models import Order, OrderLine, Partner, PriceTier, Product, User, to_money

PASSWORD = "correct horse battery"
_seq = itertools.count(1)


class Factories:
    def __init__(self, session):
        self.session = session

    def _save(self, obj):
        self.session.add(obj)
        self.session.commit()
        return obj

    def tier(self, **kw) -> PriceTier:
        n = next(_seq)
        return self._save(PriceTier(**{"name": f"Tier {n}", "discount_percent": Decimal("0"), **kw}))

    def partner(self, **kw) -> Partner:
        n = next(_seq)
        return self._save(Partner(**{"name": f"Partner {n}", "code": f"P{n:04d}", **kw}))

    def user(self, role: str = "buyer", partner: Partner | None = None, **kw) -> User:
        n = next(_seq)
        if role in ("buyer", "partner_admin") and partner is None:
            partner = self.partner()
        return self._save(User(**{
            "email": f"user{n}@example.test", "name": f"User {n}", "role": role,
            "partner_id": partner.id if partner else None,
            "password_hash": passwords.hash_password(kw.pop("password", PASSWORD)), **kw,
        }))

    def product(self, **kw) -> Product:
        n = next(_seq)
        return self._save(Product(**{
            "sku": f"SKU-{n:05d}", "name": f"Product {n}", "category": "General",
            "base_price": Decimal("10.00"), **kw,
        }))

    def order(self, partner: Partner, lines=((None, 1),), **kw) -> Order:
        order = Order(**{"partner_id": partner.id, "source": "portal", "status": "submitted",
                         "created_at": datetime.now(UTC), **kw})
        for product, qty in lines:
            product = product or self.product()
            line_total = to_money(product.base_price * qty)
            order.lines.append(OrderLine(product_id=product.id, sku=product.sku, name=product.name,
                                         quantity=qty, unit_price=product.base_price,
                                         line_total=line_total, vat_rate=product.vat_rate))
        vat = summarise((line.vat_rate, line.line_total) for line in order.lines)  # as checkout does
        order.total, order.vat_total, order.gross_total = vat.net, vat.vat, vat.gross
        partner.order_count += 1  # as every service that stores an order does
        return self._save(order)
