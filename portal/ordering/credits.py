"""Credits: money a partner can spend on its next orders (a referral reward), taken off at checkout.

A credit is granted once per source (``source_key``, unique: ``referral:12``), spent oldest first
on the partner's next orders' net totals (never below zero: what is left carries over to the next
order), and given back when an order it paid for is cancelled. Every use is a row of its own, so
an order shows exactly what it took and a cancellation returns exactly that.

Concurrency: a checkout locks the partner's credits (``FOR UPDATE``, PostgreSQL) before it
prices the credit in, so two checkouts at once spend a credit once: the second waits and reads
what the first left. The spending itself is a conditional UPDATE (``remaining >= amount``), so
even without row locks (SQLite) a credit is never spent twice: the loser's checkout is refused
and retried with what is left. ``partners.credit_balance`` mirrors the sum of the remaining
amounts and is changed in the same statements' transaction, so an order of a partner without
credit costs no query.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, String, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.orm.util import identity_key

from portal.accounts.models import Partner
from portal.core import audit
from portal.core.money import ZERO
from portal.core.types import Money, UTCDateTime, utc_now
from portal.core.vat import credit_for
from portal.db import Base
from portal.ordering.models import Order

# The sources whose orders spend credit: orders partners place themselves. Standing orders
# (recurring) keep the total the partner agreed to; imported history is past.
SPENDING_SOURCES = ("portal", "reorder", "api")


class Credit(Base):
    __tablename__ = "credits"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount"),
        CheckConstraint("remaining >= 0 AND remaining <= amount", name="remaining"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    remaining: Mapped[Decimal] = mapped_column(Money)
    kind: Mapped[str] = mapped_column(String(30))  # referral_reward
    # What granted it, once: a second grant for the same source is refused by this constraint.
    source_key: Mapped[str] = mapped_column(String(60), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class CreditUse(Base):
    """An amount of a credit an order took (given back when the order is cancelled)."""

    __tablename__ = "credit_uses"
    __table_args__ = (CheckConstraint("amount > 0", name="amount"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    credit_id: Mapped[int] = mapped_column(ForeignKey("credits.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey(Order.__table__.c.id, ondelete="CASCADE"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CreditTaken(Exception):
    """A credit priced into an order was spent by another order meanwhile (retry the order)."""


@dataclass(frozen=True)
class Allocation:
    credit_id: int
    amount: Decimal


def grant(session: Session, *, partner_id: int, amount: Decimal, kind: str, source_key: str,
          actor_id: int | None = None) -> int | None:
    """Give the partner a credit for ``source_key`` (no commit): its id, or None if that source
    was credited before (the unique key; a concurrent twin waits on it and then gets None)."""
    connection = session.connection()
    values = {"partner_id": partner_id, "amount": amount, "remaining": amount, "kind": kind,
              "source_key": source_key, "created_at": utc_now()}
    dialect_insert = postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
    credit_id = connection.execute(
        dialect_insert(Credit).values(values).on_conflict_do_nothing(index_elements=["source_key"])
        .returning(Credit.id)).scalar()
    if credit_id is None:
        return None
    _add_to_balance(session, partner_id, amount)
    audit.record(session, "credit_granted", actor_id=actor_id, partner_id=partner_id,
                 credit_id=credit_id, amount=str(amount), source=source_key)
    return credit_id


def allocate(session: Session, partner: Partner, net_total: Decimal, source: str) -> list[Allocation]:
    """What the partner's credits take off an order of ``net_total`` (oldest first), locking them
    (PostgreSQL) until the order's transaction ends; [] without credit (then no query)."""
    if source not in SPENDING_SOURCES or not partner.credit_balance or partner.credit_balance <= 0:
        return []
    rows = session.execute(
        select(Credit.id, Credit.remaining)
        .where(Credit.partner_id == partner.id, Credit.remaining > 0)
        .order_by(Credit.id).with_for_update()).all()
    allocations, left = [], Decimal(net_total)
    for row in rows:
        take = credit_for(left, row.remaining)
        if take <= 0:
            break
        allocations.append(Allocation(row.id, take))
        left -= take
    return allocations


def spend(session: Session, partner_id: int, order_id: int, allocations: list[Allocation]) -> None:
    """Take the allocated amounts off their credits for the order (no commit); raises
    CreditTaken if one no longer holds its amount (then roll back and price the order again)."""
    if not allocations:
        return
    now = utc_now()
    for allocation in allocations:
        taken = session.execute(
            update(Credit).where(Credit.id == allocation.credit_id, Credit.remaining >= allocation.amount)
            .values(remaining=Credit.remaining - allocation.amount)
            .execution_options(synchronize_session=False)).rowcount
        if taken != 1:
            raise CreditTaken(allocation.credit_id)
    session.execute(insert(CreditUse), [
        {"credit_id": a.credit_id, "order_id": order_id, "amount": a.amount, "created_at": now}
        for a in allocations])
    _add_to_balance(session, partner_id, -sum((a.amount for a in allocations), ZERO))


def give_back(session: Session, order_id: int, *, actor_id: int | None = None) -> Decimal:
    """Return what a (cancelled) order took to its credits (no commit); the amount given back.
    A use is returned once: it is marked returned in the same conditional statement."""
    uses = session.execute(
        update(CreditUse).where(CreditUse.order_id == order_id, CreditUse.returned_at.is_(None))
        .values(returned_at=utc_now()).returning(CreditUse.credit_id, CreditUse.amount)
        .execution_options(synchronize_session=False)).all()
    if not uses:
        return ZERO
    uses = sorted(uses, key=lambda use: use.credit_id)  # credits locked in id order, as checkout does
    total = ZERO
    partner_id = None
    for use in uses:
        partner_id = session.execute(
            update(Credit).where(Credit.id == use.credit_id)
            .values(remaining=Credit.remaining + use.amount).returning(Credit.partner_id)
            .execution_options(synchronize_session=False)).scalar_one()
        total += use.amount
    _add_to_balance(session, partner_id, total)
    audit.record(session, "credit_returned", actor_id=actor_id, partner_id=partner_id,
                 order_id=order_id, amount=str(total))
    return total


def _add_to_balance(session: Session, partner_id: int, amount: Decimal) -> None:
    session.execute(update(Partner).where(Partner.id == partner_id)
                    .values(credit_balance=Partner.credit_balance + amount)
                    .execution_options(synchronize_session=False))
    # The partner's row in this session (the actor's) shows the new balance on its next read.
    partner = session.identity_map.get(identity_key(Partner, partner_id))
    if partner is not None:
        session.expire(partner, ["credit_balance"])


def available(session: Session, partner_id: int) -> Decimal:
    """What the partner's credits have left to spend (from the credits themselves, not the mirror)."""
    return Decimal(session.scalar(select(func.coalesce(func.sum(Credit.remaining), 0))
                                  .where(Credit.partner_id == partner_id)))
