"""Demo referrals: partners recommending shops over the last year and a half, in every status.

Each is taken in by the real intake (normalised keys, duplicate detection, lead score) and moved
along by the real pipeline; then dated back. Partners that joined in the last year are
credited to an earlier partner's converted referral (``referred_by``), so the demo's referral
history leads to partners with real orders.
"""
from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import String, cast, delete, literal, select, update
from sqlalchemy.orm import Session

from portal.accounts.models import Partner, User
from portal.catalog.models import Product
from portal.core.access import Actor
from portal.notifications.models import Notification
from portal.ordering import orders
from portal.ordering.credits import Credit
from portal.ordering.models import Order
from portal.referrals import conversion, intake, pipeline, rewards
from portal.referrals.models import Referral, ReferralEvent, ReferralReward

SHOPS = ["Zielony Koszyk", "Sklep pod Lipą", "Delikatesy Smak", "Spiżarnia Babci", "Market Osiedlowy",
         "Eko Półka", "Mały Rynek", "Sklep Pszczółka", "Delikatesy Bursztyn", "Kram u Zosi",
         "Piekarnia i Sklep Kłos", "Sklep Wiejski Jutrzenka", "Corner Deli", "Fresh Point",
         "Sklep Na Rogu", "Delikatesy Pod Zegarem", "Groszek Sklep", "Hala Smaków", "Sklep Kasztan",
         "Spożywczy Promyk", "Delikatesy Mozaika", "Sklepik Tęcza"]
CITIES = ["Kraków", "Wrocław", "Poznań", "Gdańsk", "Łódź", "Lublin", "Toruń", "Katowice", "Rzeszów", "Opole"]
PEOPLE = ["Anna Nowak", "Piotr Wiśniewski", "Katarzyna Wójcik", "Tomasz Kamiński", "Agnieszka Lewandowska",
          "Michał Zieliński", "Magdalena Szymańska", "Paweł Woźniak", "Joanna Dąbrowska", "Marek Kozłowski"]
# status to reach, with the steps of the pipeline taken to get there
PATHS = [("submitted", []), ("contacted", ["contacted"]), ("qualified", ["contacted", "qualified"]),
         ("rejected", ["contacted", "rejected"]), ("rejected", ["rejected"])]
REASONS = ["Outside the area we deliver to.", "They buy from a competitor under contract until next year.",
           "Too small for wholesale orders for now."]


def _slug(name: str) -> str:
    return intake.company_key(name).replace(" ", "-")


def load_referrals(session: Session, *, seed: int, today: date,
                   progress: Callable[[str, int, int], None] | None = None) -> int:
    """Add the demo's referrals; the number made."""
    rng = random.Random(seed * 104729)
    report = progress or (lambda stage, done, total: None)
    admin = session.scalar(select(User).where(User.role == "admin").order_by(User.id))
    staff = Actor(admin.id, "admin")
    partners = session.scalars(select(Partner).order_by(Partner.id)).all()
    active = [p for p in partners if p.status == "active"]
    newcomers = [p for p in partners if p.created_at.date() > today - timedelta(days=365)]
    referrers = [active[0]] + rng.sample(active[1:], min(8, len(active) - 1))
    made = 0
    jobs: list[tuple[Partner, str, int]] = []  # (referrer, company, days ago)
    shops = SHOPS[:]
    rng.shuffle(shops)
    for n, shop in enumerate(shops):
        jobs.append((referrers[n % len(referrers)], shop, rng.randint(2, 540)))
    if partners:  # a referral of a company that is a partner already: a duplicate
        jobs.append((referrers[1 % len(referrers)], partners[-1].name.upper() + " Sp. z o.o.", 20))
    jobs.sort(key=lambda job: -job[2])
    for i, (referrer, company, days_ago) in enumerate(jobs):
        person = rng.choice(PEOPLE)
        signed_in = session.scalar(select(User.id).where(User.partner_id == referrer.id).limit(1))
        via_link = rng.random() < 0.3
        data = intake.ReferralData(
            company_name=company, contact_name=person, consent=True,
            email=f"{person.split()[0].lower()}@{_slug(company)}.pl" if rng.random() < 0.7 else
            f"{_slug(company)}@gmail.com", phone=f"+48 {rng.randint(500, 799)} {rng.randint(100, 999)} "
                                                   f"{rng.randint(100, 999)}" if rng.random() < 0.7 else "",
            website=f"www.{_slug(company)}.pl" if rng.random() < 0.5 else "", city=rng.choice(CITIES),
            note=rng.choice(["", "They asked about organic ranges and weekly deliveries.",
                             "Opened a second shop this spring; happy to talk in the mornings."]),
            referrer_name=rng.choice(PEOPLE) if via_link else "")
        referral, _new = intake.submit(session, referrer, data, key=f"demo-{i}",
                                       source="link" if via_link else "portal",
                                       submitted_by_id=None if via_link else signed_in)
        if referral.status != "duplicate":
            status, steps = PATHS[0] if days_ago < 14 else rng.choice(PATHS)
            for step in steps:
                pipeline.change_status(session, staff, referral.id, step,
                                       note=rng.choice(REASONS) if step == "rejected" else "")
        _date_back(session, referral.id, today - timedelta(days=days_ago), rng)
        made += 1
        report("referrals", i + 1, len(jobs) + len(newcomers))
    # Partners that joined in the last year came in through a referral of an earlier partner.
    for j, partner in enumerate(newcomers):
        # The first newcomer was brought by the demo buyer's company (its reward is there to see).
        referrer = referrers[0] if j == 0 and referrers[0].id != partner.id else rng.choice(
            [p for p in referrers if p.id != partner.id])
        joined = partner.created_at.date()
        data = intake.ReferralData(company_name=partner.name, contact_name=rng.choice(PEOPLE), consent=True,
                                   email=f"office@{_slug(partner.name)}-{partner.id}.pl", city=rng.choice(CITIES))
        referral = Referral(
            referrer_id=referrer.id, source="portal", company_name=data.company_name,
            contact_name=data.contact_name, email=data.email, city=data.city, consent=True,
            company_key=intake.company_key(data.company_name), email_key=data.email, domain="",
            status="converted", converted_partner_id=partner.id, manager_id=partner.account_manager_id,
            idempotency_key=f"demo-joined-{partner.id}", request_hash="demo", score=55,
            score_reasons=[["base", 20], ["company_email", 10], ["city", 5], ["signed_in", 10]])
        referral.events = [ReferralEvent(to_status="submitted"),
                           ReferralEvent(actor_id=admin.id, from_status="submitted", to_status="contacted"),
                           ReferralEvent(actor_id=admin.id, from_status="contacted", to_status="converted",
                                         note=partner.name)]
        session.add(referral)
        session.flush()
        partner.referred_by_id = referrer.id
        _date_back(session, referral.id, joined - timedelta(days=rng.randint(20, 60)), rng, converted=joined)
        made += 1
        report("referrals", len(jobs) + j + 1, len(jobs) + len(newcomers))
    # Only referrals still waiting for a first call keep their "new referral" notification.
    waiting = select(Referral.id).where(Referral.status == "submitted")
    session.execute(delete(Notification).where(
        Notification.kind == "referral_received",
        Notification.subject_key.not_in(select(literal("referral:") + cast(Referral.id, String))
                                        .where(Referral.id.in_(waiting)))))
    session.commit()
    _convert_one(session, staff, referrers[0])
    _rewards(session, rng, keep=referrers[0].id)
    return made


def _convert_one(session: Session, staff: Actor, referrer: Partner) -> None:
    """The referrer's latest qualified referral became a partner this week: no order yet, so its
    reward is pending."""
    referral = session.scalar(select(Referral).where(Referral.status == "qualified",
                                                     Referral.referrer_id == referrer.id)
                              .order_by(Referral.created_at.desc(), Referral.id.desc()).limit(1))
    if referral is not None:
        conversion.convert(session, staff, referral.id, conversion.NewPartner(
            referral.company_name, _slug(referral.company_name).upper()[:30] or f"REF-{referral.id}"))


def _rewards(session: Session, rng: random.Random, *, keep: int) -> None:
    """The rewards the converted referrals earned (granted by the same rule as deliveries), dated
    to the delivery that earned them; every other referrer has spent its credit on an order, but
    ``keep`` (the demo buyer's company) still has its credit to see at checkout."""
    rewards.grant_due(session)
    granted = session.scalars(select(ReferralReward).where(ReferralReward.status == "granted")
                              .order_by(ReferralReward.id)).all()
    for reward in granted:
        delivered = session.scalar(select(Order.delivered_at).where(Order.id == reward.order_id))
        if delivered is not None:
            reward.granted_at = delivered
            session.execute(update(Credit).where(Credit.id == reward.credit_id).values(created_at=delivered))
    session.commit()
    products = session.scalars(select(Product).where(Product.active).order_by(Product.id)).all()
    spent: set[int] = set()
    for reward in [r for r in granted if r.referrer_id != keep][::2]:
        buyer = session.scalar(select(User).where(User.partner_id == reward.referrer_id, User.active)
                               .order_by(User.id).limit(1))
        if buyer is None or reward.referrer_id in spent or not products:
            continue
        spent.add(reward.referrer_id)
        session.refresh(buyer.partner)
        lines = [orders.LineRequest(p.sku, p.pack_size * rng.randint(2, 6)) for p in rng.sample(products, 4)]
        orders.place_order(session, Actor.of(buyer), lines, key=f"demo-credit-{reward.id}",
                           note="Paid partly with the referral credit.")


def _date_back(session: Session, referral_id: int, day: date, rng: random.Random,
               converted: date | None = None) -> None:
    """Date a referral and its history as if it had happened then (steps a few days apart)."""
    at = datetime.combine(day, time(9), tzinfo=UTC) + timedelta(minutes=rng.randint(0, 480))
    session.execute(update(Referral).where(Referral.id == referral_id).values(
        created_at=at, updated_at=at,
        converted_at=datetime.combine(converted, time(12), tzinfo=UTC) if converted else None))
    events = session.scalars(select(ReferralEvent).where(ReferralEvent.referral_id == referral_id)
                             .order_by(ReferralEvent.id)).all()
    for k, event in enumerate(events):
        event.created_at = at + timedelta(days=3 * k, hours=k)
    session.flush()
