"""Demo data: a realistic wholesaler with years of seasonal partner orders.

Deterministic for a given seed and "today": the same call gives the same rows.
"""
from __future__ import annotations

import hashlib
import math
import os
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from sqlalchemy import delete, insert, inspect, literal, select
from sqlalchemy import table as named_table
from sqlalchemy.orm import Session

from portal.accounts import passwords
from portal.accounts.models import Invitation, Partner, PriceTier, User
from portal.catalog.models import Product, TierPrice
from portal.catalog.pricing import unit_price
from portal.core.errors import ServiceError
from portal.core.money import to_money
from portal.core.vat import summarise
from portal.db import Base
from portal.demo import addresses as demo_addresses
from portal.demo import worklist
from portal.ordering.models import Order, OrderLine
from portal.ordering.store import recount

DEMO_PASSWORD = "trellis-demo"
DEMO_LOGINS = (
    ("admin@demo.test", "admin", "the wholesaler's operator"),
    ("manager@demo.test", "account_manager", "account manager of most partners"),
    ("manager2@demo.test", "account_manager", "account manager of the rest"),
    ("owner@demo.test", "partner_admin", "owner of the first partner"),
    ("buyer@demo.test", "buyer", "buyer at the first partner"),
    ("buyer2@demo.test", "buyer", "buyer at the second partner"),
)

CATALOG = {
    "Beverages": [("Sparkling water 0.5 l", "bottle", 24, "0.45"), ("Still water 1.5 l", "bottle", 6, "0.60"),
                  ("Orange juice 1 l", "carton", 12, "1.80"), ("Apple juice 1 l", "carton", 12, "1.60"),
                  ("Cola 0.33 l", "can", 24, "0.70"), ("Iced tea 0.5 l", "bottle", 12, "0.95"),
                  ("Ground coffee 500 g", "pack", 10, "6.90"), ("Black tea 100 bags", "box", 12, "3.20"),
                  ("Energy drink 0.25 l", "can", 24, "1.10")],
    "Snacks": [("Salted crisps 150 g", "bag", 20, "1.40"), ("Paprika crisps 150 g", "bag", 20, "1.40"),
               ("Pretzel sticks 250 g", "bag", 15, "1.10"), ("Milk chocolate 100 g", "bar", 24, "1.25"),
               ("Dark chocolate 100 g", "bar", 24, "1.45"), ("Salted peanuts 200 g", "bag", 18, "1.90"),
               ("Butter biscuits 200 g", "pack", 16, "1.30"), ("Muesli bars 6 pcs", "box", 12, "2.40"),
               ("Gummy bears 200 g", "bag", 20, "1.20")],
    "Dairy": [("Milk 3.2% 1 l", "carton", 12, "0.95"), ("Natural yoghurt 400 g", "cup", 12, "0.85"),
              ("Butter 200 g", "pack", 20, "2.30"), ("Gouda cheese 1 kg", "block", 4, "8.90"),
              ("Cottage cheese 250 g", "cup", 12, "1.05"), ("Cream 18% 200 ml", "cup", 12, "0.90"),
              ("Kefir 1 l", "bottle", 6, "1.15")],
    "Bakery": [("Rye bread 500 g", "loaf", 10, "1.60"), ("Wholegrain rolls 6 pcs", "bag", 10, "1.70"),
               ("Croissants 4 pcs", "bag", 8, "2.10"), ("Crispbread 250 g", "pack", 12, "1.30"),
               ("Gingerbread 300 g", "pack", 12, "2.60"), ("Panettone 750 g", "box", 6, "7.50")],
    "Frozen": [("Frozen peas 450 g", "bag", 12, "1.50"), ("Frozen pizza margherita", "box", 10, "2.90"),
               ("Vanilla ice cream 1 l", "tub", 6, "3.40"), ("Fish fingers 300 g", "box", 12, "2.70"),
               ("Frozen berries 500 g", "bag", 10, "3.10"), ("Dumplings 450 g", "bag", 10, "2.80")],
    "Household": [("Dish soap 900 ml", "bottle", 12, "1.90"), ("Laundry powder 3 kg", "box", 4, "9.90"),
                  ("Paper towels 2 rolls", "pack", 12, "1.70"), ("Toilet paper 8 rolls", "pack", 6, "3.20"),
                  ("Bin bags 35 l", "roll", 20, "1.30"), ("All-purpose cleaner 750 ml", "bottle", 12, "2.20"),
                  ("Sponges 5 pcs", "pack", 20, "0.90"), ("Candles 10 pcs", "box", 10, "3.90")],
    "Personal care": [("Shampoo 400 ml", "bottle", 12, "3.40"), ("Shower gel 500 ml", "bottle", 12, "2.60"),
                      ("Toothpaste 75 ml", "tube", 24, "1.80"), ("Hand soap 300 ml", "bottle", 12, "1.50"),
                      ("Deodorant 150 ml", "can", 12, "2.90"), ("Sun cream SPF 30", "bottle", 10, "7.90"),
                      ("Hand cream 100 ml", "tube", 12, "2.40")],
    "Pantry": [("Spaghetti 500 g", "pack", 20, "1.10"), ("Long grain rice 1 kg", "bag", 10, "1.90"),
               ("Sunflower oil 1 l", "bottle", 12, "2.30"), ("Wheat flour 1 kg", "bag", 10, "0.95"),
               ("Sugar 1 kg", "bag", 10, "1.05"), ("Canned tomatoes 400 g", "can", 24, "0.85"),
               ("Strawberry jam 280 g", "jar", 12, "2.10"), ("Honey 400 g", "jar", 12, "5.40"),
               ("Oat flakes 500 g", "bag", 12, "1.20")],
}
SEASONAL_CATEGORIES = {  # month (1-12) -> demand multiplier on top of the partner's season
    "Beverages": {6: 1.5, 7: 1.7, 8: 1.6, 5: 1.2},
    "Frozen": {6: 1.4, 7: 1.5, 8: 1.4},
    "Bakery": {12: 1.8, 11: 1.2, 4: 1.2},
    "Snacks": {12: 1.5, 11: 1.2},
}
# Illustrative rates (food 5 %, sweets 8 %, the rest 23 %), not tax advice.
VAT_BY_CATEGORY = {"Dairy": 5, "Bakery": 5, "Pantry": 5, "Frozen": 5, "Snacks": 8}
RETAIL_SEASON = [0.82, 0.80, 0.90, 0.97, 1.02, 1.06, 1.10, 1.08, 0.98, 0.98, 1.08, 1.40]
PLACES = ["Baltic", "Hillside", "Riverside", "Old Town", "Market Square", "Northgate", "Lakeside",
          "Harbour", "Meadow", "Station", "Parkview", "Orchard", "Westend", "Kingsway", "Millbrook",
          "Elm Street", "Castle Hill", "Greenfield", "Bridge", "Sunnyside"]
KINDS = ["Corner Shop", "Grocers", "Mini Market", "Food Hall", "Deli", "Convenience", "Supermarket",
         "General Store", "Pantry", "Fresh Market"]
FIRST = ["Anna", "Piotr", "Maria", "Tomasz", "Kasia", "John", "Emma", "Lukas", "Sofia", "Marek",
         "Ewa", "David", "Zofia", "Adam", "Olivia", "Jan"]
LAST = ["Nowak", "Kowalska", "Smith", "Wiśniewski", "Brown", "Lewandowska", "Müller", "Zielińska",
        "Taylor", "Wójcik", "Novak", "Kamińska"]


@dataclass(frozen=True)
class DemoResult:
    partners: int
    products: int
    users: int
    orders: int
    lines: int


def database_is_empty(session: Session) -> bool:
    """True when no table but Alembic's own holds a row (price tiers, audit events included)."""
    names = inspect(session.connection()).get_table_names()
    return not any(
        session.scalar(select(literal(1)).select_from(named_table(name)).limit(1))
        for name in names if name != "alembic_version"
    )


def wipe(session: Session) -> None:
    """Delete every row of every table (helper, no commit)."""
    for table in reversed(Base.metadata.sorted_tables):
        session.execute(delete(table))


def load(
    session: Session, *, partners: int = 40, years: int = 3, seed: int = 1,
    today: date | None = None, force: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
) -> DemoResult:
    """Fill an empty database with demo data; with ``force`` wipe it first."""
    if partners < 2 or partners > 2000:
        raise ServiceError("--partners must be between 2 and 2000")
    if years < 1 or years > 10:
        raise ServiceError("--years must be between 1 and 10")
    if not database_is_empty(session):
        if not force:
            raise ServiceError(
                "The database already has data; demo data goes only into an empty database "
                "(use --force to wipe it and load anyway)."
            )
        wipe(session)
    rng = random.Random(seed)
    today = today or datetime.now(UTC).date()
    report = progress or (lambda stage, done, total: None)
    password_hash = passwords.hash_password(DEMO_PASSWORD)  # one hash for every demo user

    tiers = _tiers(session)
    products = _products(session, rng, tiers)
    staff = _staff(session, password_hash)
    partner_rows, users = _partners(session, rng, partners, years, today, tiers, staff, password_hash)
    session.flush()
    delivery = demo_addresses.load(session, rng, [partner for partner, _profile in partner_rows])

    history: list[tuple[dict, list[dict]]] = []
    for i, (partner, profile) in enumerate(partner_rows, start=1):
        history += _history(session, rng, partner, profile, products, years, today, delivery[partner.id])
        report("orders", i, len(partner_rows))
    # Insert in date order, so order numbers grow with time as in a real system.
    history.sort(key=lambda item: (item[0]["created_at"], item[0]["partner_id"]))
    orders, lines = _insert_orders(session, history)
    recount(session)
    _open_invitation(session)
    worklist.add(session, [partner for partner, _profile in partner_rows], seed=seed, today=today)
    session.commit()
    from portal.demo.standing import load_standing_orders  # (it places orders: after the history)

    load_standing_orders(session, seed=seed, today=today, progress=report)
    from portal.demo.referrals import load_referrals

    load_referrals(session, seed=seed, today=today, progress=report)
    from portal.demo import relationship as demo_relationship  # reads the standing orders too

    demo_relationship.add(session, seed=seed, today=today)
    session.commit()
    return DemoResult(len(partner_rows), len(products), users + len(staff), orders, lines)


def _tiers(session: Session) -> list[PriceTier]:
    tiers = [PriceTier(name="Standard", discount_percent=Decimal("0")),
             PriceTier(name="Silver", discount_percent=Decimal("5")),
             PriceTier(name="Gold", discount_percent=Decimal("10"))]
    session.add_all(tiers)
    session.flush()
    return tiers


def _products(session: Session, rng: random.Random, tiers: list[PriceTier]) -> list[Product]:
    products = []
    for category, items in CATALOG.items():
        prefix = category[:3].upper()
        for n, (name, unit, pack, price) in enumerate(items, start=1):
            products.append(Product(
                sku=f"{prefix}-{n:03d}", name=name, category=category, unit=unit, pack_size=pack,
                base_price=Decimal(price), active=True, vat_rate=VAT_BY_CATEGORY.get(category, 23),
            ))
    products[-1].active = False  # one discontinued product, still in old orders
    products[7].active = False
    session.add_all(products)
    session.flush()
    gold = tiers[2]
    for product in rng.sample(products, 8):  # contract prices that beat the Gold discount
        session.add(TierPrice(tier_id=gold.id, product_id=product.id,
                              price=to_money(product.base_price * Decimal("0.85"))))
    session.flush()
    return products


def _staff(session: Session, password_hash: str) -> list[User]:
    staff = [
        User(email="admin@demo.test", name="Alex Admin", role="admin", password_hash=password_hash),
        User(email="manager@demo.test", name="Morgan Manager", role="account_manager",
             password_hash=password_hash),
        User(email="manager2@demo.test", name="Maja Menedżer", role="account_manager",
             password_hash=password_hash, locale="pl"),
    ]
    session.add_all(staff)
    session.flush()
    return staff


@dataclass
class _Profile:
    start: date            # first month with orders
    stop: date | None      # first month without orders (churned)
    level: float           # monthly sales at the start, in currency
    growth: float          # yearly growth rate
    season: float          # 0..1: how strongly the partner follows the retail season
    orders_per_month: float
    basket: list[int]      # indexes into the product list


def _partners(session, rng, count, years, today, tiers, staff, password_hash):
    first_month = date(today.year, today.month, 1) - relativedelta(years=years)
    rows: list[tuple[Partner, _Profile]] = []
    used_names = set()
    users = 0
    manager, manager2 = staff[1], staff[2]
    for i in range(count):
        while True:
            name = f"{rng.choice(PLACES)} {rng.choice(KINDS)}"
            if name not in used_names:
                break
            name = f"{name} {len(used_names)}"
            if name not in used_names:
                break
        used_names.add(name)
        kind = rng.random()
        start, stop, status = first_month, None, "active"
        if i >= 2 and kind < 0.12:          # new partners joined in the last year
            start = date(today.year, today.month, 1) - relativedelta(months=rng.randint(3, 11))
        elif i >= 2 and kind < 0.22:        # churned: stopped ordering some months ago
            stop = date(today.year, today.month, 1) - relativedelta(months=rng.randint(4, 10))
            status = "churned"
        elif i >= 2 and kind < 0.25:
            status = "paused"
        elif i >= 2 and kind < 0.35:        # joined later in the history
            start = first_month + relativedelta(months=rng.randint(3, 14))
        partner = Partner(
            name=name, code=f"R{i + 1:03d}", status=status,
            price_tier=tiers[0 if i % 3 == 2 else (2 if i % 5 == 0 else 1)],
            account_manager_id=(manager2.id if i % 6 == 5 else manager.id),
            stage=rng.choice(["customer", "client", "client", "supporter", "advocate", "partner"]),
            preferred_channel=rng.choice(["email", "email", "email", "phone", "visit", "none"]),
            contact_every_days=rng.choice([14, 30, 30, 60, 90]),
            referral_code=f"{name.split()[0].lower()}{i + 1:03d}"[:20],
            created_at=datetime.combine(start - timedelta(days=rng.randint(5, 40)), time(9),
                                        tzinfo=UTC),
        )
        profile = _Profile(
            start=start, stop=stop, level=math.exp(rng.gauss(math.log(4000), 0.7)),
            growth=rng.choice([rng.uniform(-0.25, -0.05), rng.uniform(0.0, 0.15),
                               rng.uniform(0.1, 0.4)]),
            season=rng.uniform(0.5, 1.0), orders_per_month=rng.uniform(1.5, 6),
            basket=rng.sample(range(sum(len(v) for v in CATALOG.values())), rng.randint(12, 28)),
        )
        session.add(partner)
        rows.append((partner, profile))
    session.flush()
    for i, (partner, _profile) in enumerate(rows):
        slug = partner.code.lower()
        if i == 0:
            people = [("owner@demo.test", "partner_admin", "Olivia Owner"),
                      ("buyer@demo.test", "buyer", "Ben Buyer")]
        elif i == 1:
            people = [("buyer2@demo.test", "buyer", "Bea Buyer"),
                      (f"owner@{slug}.demo.test", "partner_admin", _person(rng))]
        else:
            people = [(f"owner@{slug}.demo.test", "partner_admin", _person(rng))]
            people += [(f"buyer{k}@{slug}.demo.test", "buyer", _person(rng))
                       for k in range(1, rng.randint(1, 3) + 1)]
        if i % 4 != 3:  # most partners have a contact person; the rest show their administrator
            _email, _role, person = next(p for p in people if p[1] == "partner_admin")
            partner.contact_name = person
            partner.contact_email = f"office@{slug}.demo.test"
            partner.contact_phone = f"+48 22 {500 + i:03d} {(i * 37) % 100:02d} {(i * 53) % 100:02d}"
        for email, role, person in people:
            session.add(User(email=email, role=role, name=person, partner_id=partner.id,
                             password_hash=password_hash, locale=rng.choice(["en", "en", "pl"])))
            users += 1
    return rows, users


def _open_invitation(session: Session) -> None:
    """owner@demo.test has invited a colleague who has not answered yet (the link is not kept)."""
    owner = session.scalar(select(User).where(User.email == "owner@demo.test"))
    session.add(Invitation(partner_id=owner.partner_id, email="new.buyer@demo.test", name="Nina New",
                           role="buyer", token_hash=hashlib.sha256(os.urandom(32)).hexdigest(),
                           invited_by_id=owner.id, expires_at=datetime.now(UTC) + timedelta(days=7)))


def _person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def _history(session, rng, partner, profile, products, years, today, address):
    """One partner's orders month by month, as (order row, line rows) pairs."""
    uses_po = partner.id % 3 == 0  # some partners quote their own purchase-order numbers
    tier = partner.price_tier
    explicit = {tp.product_id: tp.price for tp in session.scalars(
        select(TierPrice).where(TierPrice.tier_id == tier.id))} if tier else {}
    buyers = [u.id for u in session.scalars(select(User).where(User.partner_id == partner.id))]
    month = profile.start
    end = date(today.year, today.month, 1)
    order_rows, line_groups = [], []
    while month <= end:
        if profile.stop and month >= profile.stop:
            break
        age_years = (month - profile.start).days / 365.25
        seasonal = 1 + profile.season * (RETAIL_SEASON[month.month - 1] - 1)
        target = profile.level * (1 + profile.growth) ** age_years * seasonal * rng.uniform(0.8, 1.2)
        days_in_month = ((month + relativedelta(months=1)) - month).days
        # This month's history stops yesterday: no demo order may come after one placed today.
        last_day = (today - month).days if month == end else days_in_month
        if last_day < 1:
            break
        n_orders = _poisson(rng, profile.orders_per_month * last_day / days_in_month)
        for _ in range(n_orders):
            day = rng.randint(1, last_day)
            created = datetime.combine(month.replace(day=day), time(rng.randint(6, 17),
                                       rng.randint(0, 59)), tzinfo=UTC)
            chosen = rng.sample(profile.basket, min(len(profile.basket), rng.randint(3, 10)))
            budget = target / max(n_orders, 1) / len(chosen)
            lines = []
            for index in chosen:
                product = products[index]
                if not product.active and created.date() > today - timedelta(days=200):
                    continue  # discontinued products vanish from recent orders
                boost = SEASONAL_CATEGORIES.get(product.category, {}).get(month.month, 1.0)
                price = unit_price(product.base_price, tier.discount_percent if tier else None,
                                   explicit.get(product.id))
                packs = max(1, round(budget * boost / float(price) / product.pack_size))
                quantity = packs * product.pack_size
                lines.append({"product_id": product.id, "sku": product.sku, "name": product.name,
                              "quantity": quantity, "unit_price": price,
                              "line_total": to_money(price * quantity), "vat_rate": product.vat_rate})
            if not lines:
                continue
            age = (today - created.date()).days
            status = ("cancelled" if rng.random() < 0.02 else
                      "delivered" if age > 10 else
                      "shipped" if age > 5 else "confirmed" if age > 1 else "submitted")
            promised = created.date() + timedelta(days=rng.randint(2, 5))
            delivered = (datetime.combine(promised + timedelta(days=rng.choice([-1, 0, 0, 0, 1, 3])),
                                          time(12), tzinfo=UTC) if status == "delivered" else None)
            vat = summarise((line["vat_rate"], line["line_total"]) for line in lines)
            order_rows.append({
                "partner_id": partner.id, "placed_by_id": rng.choice(buyers), "source": "portal",
                "status": status, "created_at": created, "updated_at": created,
                "promised_date": promised if status != "submitted" else None,
                "delivered_at": delivered, "note": "", "delivery_address": address,
                "po_reference": f"PO-{created.year}-{len(order_rows) + 1:04d}" if uses_po else None,
                "total": vat.net, "vat_total": vat.vat, "gross_total": vat.gross,
            })
            line_groups.append(lines)
        month += relativedelta(months=1)
    return list(zip(order_rows, line_groups, strict=True))


def _insert_orders(session, history, batch=2000):
    orders = lines = 0
    for start in range(0, len(history), batch):
        chunk = history[start:start + batch]
        ids = session.scalars(
            insert(Order).returning(Order.id, sort_by_parameter_order=True), [o for o, _l in chunk]
        ).all()
        rows = [{**line, "order_id": order_id}
                for order_id, (_o, group) in zip(ids, chunk, strict=True) for line in group]
        session.execute(insert(OrderLine), rows)
        orders += len(ids)
        lines += len(rows)
    return orders, lines


def _poisson(rng: random.Random, lam: float) -> int:
    # Knuth's method: fine for the small rates used here.
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1
