"""Rewards: a converted referral earns its referrer a credit once the new partner has ordered.

The rule (settings, read when the reward is decided): the referred partner's delivered orders
number at least ``REFERRAL_REWARD_ORDERS`` (default 1: the first delivered order) and add up to
at least ``REFERRAL_REWARD_REVENUE`` net (default 0); the reward is ``REFERRAL_REWARD_AMOUNT``
net (default 200.00), fixed when the referral converts. The credit is spent at checkout by the
ordering package (portal.ordering.credits): its own line on the order, never below a zero total,
what is left carried over, given back when the order is cancelled.

When: in the transaction that marks the referred partner's order delivered (a status hook of
ordering.lifecycle), so a delivery and its reward commit together; ``grant_due`` sweeps the same
rule over every pending reward (CLI ``flask referrals rewards``, Celery beat), for a rule changed
since or a conversion from before rewards existed.

Exactly once: the reward row is unique per referral, it is moved from ``pending`` with its row
locked (``FOR UPDATE``), and the credit is unique per reward (``source_key``). Two deliveries
recorded at once: the second waits for the first's lock and then finds the reward granted; when
two orders are needed, the second reads the first's committed delivery after the lock (each
statement of a READ COMMITTED transaction sees what committed before it), so it grants.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from flask import current_app, has_app_context
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from portal.core import audit
from portal.core.money import ZERO
from portal.core.types import utc_now
from portal.notifications import outbox
from portal.ordering import credits, lifecycle
from portal.ordering.models import Order
from portal.referrals.models import Referral, ReferralReward

KIND = "referral_reward"


@dataclass(frozen=True)
class Rule:
    amount: Decimal
    orders: int
    revenue: Decimal


def rule() -> Rule:
    """The reward rule of the app's settings (the defaults outside an app, e.g. a bare script)."""
    config = current_app.config if has_app_context() else {}
    return Rule(Decimal(config.get("REFERRAL_REWARD_AMOUNT", "200.00")),
                int(config.get("REFERRAL_REWARD_ORDERS", 1)),
                Decimal(config.get("REFERRAL_REWARD_REVENUE", "0")))


def promise(session: Session, referral: Referral) -> None:
    """The pending reward of a referral just converted (no commit; once per referral)."""
    connection = session.connection()
    dialect_insert = postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
    connection.execute(dialect_insert(ReferralReward).values(
        referral_id=referral.id, referrer_id=referral.referrer_id, amount=rule().amount,
        status="pending", created_at=utc_now()).on_conflict_do_nothing(index_elements=["referral_id"]))


def on_delivered(session: Session, order: Order) -> None:
    """The hook on a delivered order: grant the reward of the referral that brought its partner."""
    if order.source == "import":
        return
    referral = session.scalar(select(Referral).where(Referral.converted_partner_id == order.partner_id,
                                                     Referral.status == "converted"))
    if referral is not None:
        promise(session, referral)  # a conversion from before rewards existed
        _decide(session, referral, order.id)


def _decide(session: Session, referral: Referral, order_id: int | None) -> bool:
    """Grant the referral's reward if it is pending and the rule is met (no commit)."""
    reward = session.scalar(select(ReferralReward).where(
        ReferralReward.referral_id == referral.id, ReferralReward.status == "pending")
        .with_for_update().execution_options(populate_existing=True))
    if reward is None:  # granted already (by a concurrent delivery, perhaps)
        return False
    current = rule()
    earning = _earning(referral)
    count, revenue = session.execute(
        select(func.count(Order.id), func.coalesce(func.sum(Order.total), 0)).where(*earning)).one()
    if count < current.orders or Decimal(revenue) < current.revenue:
        return False
    if order_id is None:  # the sweep: the order that met the rule is the latest delivered
        order_id = session.scalar(select(Order.id).where(*earning)
                                  .order_by(Order.delivered_at.desc().nulls_last(), Order.id.desc()).limit(1))
    credit_id = credits.grant(session, partner_id=reward.referrer_id, amount=reward.amount, kind=KIND,
                              source_key=f"referral:{referral.id}")
    if credit_id is None:  # pragma: no cover - the reward row lock makes this unreachable
        return False
    session.execute(update(ReferralReward).where(ReferralReward.id == reward.id).values(
        status="granted", credit_id=credit_id, order_id=order_id, granted_at=utc_now())
        .execution_options(synchronize_session=False))
    audit.record(session, "referral_reward_granted", target=referral, partner_id=reward.referrer_id,
                 amount=str(reward.amount), credit_id=credit_id)
    company = referral.converted_partner.name if referral.converted_partner else referral.company_name
    outbox.queue(session, partner_id=reward.referrer_id, kind="referral_reward_granted",
                 subject_key=f"referral:{referral.id}:reward",
                 payload={"company": company, "amount": str(reward.amount), "referral_id": referral.id,
                          "partner_name": referral.referrer.name})
    session.expire(reward)
    return True


def _earning(referral: Referral) -> tuple:
    """The orders that count towards a reward: the new partner's delivered orders placed since it
    converted, imported history left out (a company that bought before is no new business)."""
    conditions = [Order.partner_id == referral.converted_partner_id, Order.status == "delivered",
                  Order.source != "import"]
    if referral.converted_at is not None:
        conditions.append(Order.created_at >= referral.converted_at)
    return tuple(conditions)


def grant_due(session: Session, *, progress: Callable[[int, int], None] | None = None) -> int:
    """Promise a reward to every converted referral without one and grant every pending reward
    whose rule is met, one transaction each (safe to run again, and beside deliveries); how
    many were granted."""
    missing = session.scalars(select(Referral).where(
        Referral.status == "converted", Referral.converted_partner_id.is_not(None),
        ~select(ReferralReward.id).where(ReferralReward.referral_id == Referral.id).exists())).all()
    for referral in missing:
        promise(session, referral)
    session.commit()
    pending = session.scalars(select(Referral).join(ReferralReward, ReferralReward.referral_id == Referral.id)
                              .where(ReferralReward.status == "pending", Referral.status == "converted",
                                     Referral.converted_partner_id.is_not(None))
                              .order_by(Referral.id)).all()
    granted = 0
    for done, referral in enumerate(pending, start=1):
        granted += _decide(session, referral, None)
        session.commit()
        if progress is not None:
            progress(done, len(pending))
    return granted


def install() -> None:
    """Register the delivery hook with ordering (at start-up; idempotent)."""
    lifecycle.on_status("delivered", on_delivered)


# -- reading ----------------------------------------------------------------------------------

STATES = ("pending", "granted", "used")


@dataclass(frozen=True)
class RewardView:
    referral_id: int
    amount: Decimal
    state: str  # pending, granted (something left to spend) or used (all spent)
    remaining: Decimal  # what the credit has left (the amount while pending)
    granted_at: object


def for_referrals(session: Session, referral_ids: list[int]) -> dict[int, RewardView]:
    """referral id -> its reward, as its referrer sees it (one query)."""
    if not referral_ids:
        return {}
    rows = session.execute(
        select(ReferralReward.referral_id, ReferralReward.amount, ReferralReward.status,
               ReferralReward.granted_at, credits.Credit.remaining)
        .outerjoin(credits.Credit, credits.Credit.id == ReferralReward.credit_id)
        .where(ReferralReward.referral_id.in_(referral_ids))).all()
    return {row.referral_id: _view(row) for row in rows}


def _view(row) -> RewardView:
    if row.status == "pending" or row.remaining is None:
        return RewardView(row.referral_id, row.amount, "pending" if row.status == "pending" else "used",
                          row.amount if row.status == "pending" else ZERO, row.granted_at)
    return RewardView(row.referral_id, row.amount, "used" if row.remaining <= 0 else "granted",
                      row.remaining, row.granted_at)


@dataclass(frozen=True)
class RewardTotals:
    pending: Decimal
    granted: Decimal  # every reward granted, spent or not
    available: Decimal  # credit left to spend (all of the partner's credits)


def totals(session: Session, partner_id: int) -> RewardTotals:
    """The referrer's rewards in money: promised, granted, and credit still to spend."""
    pending, granted = session.execute(
        select(func.coalesce(func.sum(ReferralReward.amount).filter(ReferralReward.status == "pending"), 0),
               func.coalesce(func.sum(ReferralReward.amount).filter(ReferralReward.status == "granted"), 0))
        .where(ReferralReward.referrer_id == partner_id)).one()
    return RewardTotals(Decimal(pending), Decimal(granted), credits.available(session, partner_id))
