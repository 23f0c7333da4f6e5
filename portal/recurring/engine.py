"""Generating standing orders: every due occurrence gets exactly one run, and at most one order.

``generate_due(session_factory, today)`` walks the schedules whose ``next_date`` is on or before
``today``, a batch of ``BATCH`` schedules per transaction. A batch claims its schedules' rows
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL: parallel workers share the schedules instead of
waiting on each other; on SQLite a first write takes the database's write lock), decides every
due occurrence's outcome in memory, places each ``created`` one's order through
``ordering.orders.place_order`` (prices and default addresses read once for the whole batch,
``ordering.batch``; the idempotency key is made of the schedule and the date), writes the runs,
advances ``next_date``, queues the batch's notifications and commits once; its rows are read and
written by a few Core statements per batch (``recurring.rows``), not ORM objects. The unique
(schedule, date) run row is the guarantee: a process that reaches an occurrence another one has
written fails to insert it, its batch rolls back whole (orders included) and is done again one
schedule per transaction, where the taken occurrences are simply no longer due.

Design decision (issue 12 asked for one transaction per occurrence): one transaction per batch.
A transaction per occurrence spent most of its time waiting for its commit to reach the disk
(58 occurrences/s on PostgreSQL, however many workers); a batch pays for one commit. The
promise is unchanged where it matters: an order, its lines, its run and the schedule's new
``next_date`` are still written in one transaction, so a process killed mid-batch (SIGKILL, a
lost worker) leaves no half-written order and no order without its run; it loses the whole
uncommitted batch, whose occurrences are still due and are placed by the next run. Within a
batch, schedules are handled in (partner, id) order, so two workers lock partners' order
counters in the same order and cannot deadlock.

Policy (README, "Standing orders"): after downtime only the latest missed occurrence is placed,
older ones are recorded as ``missed``; dates inside a pause are recorded as ``paused`` (neither
placed nor missed); a skipped date is recorded as ``skipped``; the anchor never moves.
"""
from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from portal.catalog import browse as catalog
from portal.core.access import Actor, PartnerRef
from portal.core.errors import ServiceError
from portal.notifications import outbox
from portal.ordering import batch as order_batch
from portal.ordering import orders
from portal.recurring import rows
from portal.recurring.models import RecurringOrder
from portal.recurring.plan import plan_for as order_plan
from portal.recurring.schedules import occurrences

Progress = Callable[[int], None]
BATCH = 250  # schedules per transaction: one commit for many orders, locks held well under a second


@dataclass
class RunSummary:
    created: int = 0
    skipped: int = 0
    paused: int = 0
    failed: int = 0
    missed: int = 0
    schedules: int = 0
    failures: list[tuple[int, date, str]] = field(default_factory=list)  # (schedule, date, reason)

    def add(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    @property
    def occurrences(self) -> int:
        return self.created + self.skipped + self.paused + self.failed + self.missed


@dataclass
class _Run:
    """One occurrence's outcome, written when its batch commits."""

    schedule: rows.Claimed
    day: date
    outcome: str
    reason: str = ""
    order_id: int | None = None
    detail: dict = field(default_factory=dict)


def order_key(schedule_id: int, day: date) -> str:
    """The idempotency key of the order an occurrence places."""
    return f"recurring:{schedule_id}:{day.isoformat()}"


def due_ids(session: Session, today: date) -> list[int]:
    """The schedules with an occurrence on or before ``today`` that has no run yet."""
    return list(session.scalars(
        select(RecurringOrder.id)
        .where(RecurringOrder.status != "cancelled", RecurringOrder.next_date <= today)
        .order_by(RecurringOrder.id)
    ))


def generate_due(factory: sessionmaker, today: date, *, ids: Sequence[int] | None = None,
                 progress: Progress | None = None, batch: int = BATCH) -> RunSummary:
    """Give every due occurrence up to ``today`` its run (and order); safe to run again or at once."""
    summary = RunSummary()
    with factory() as session:
        todo = due_ids(session, today) if ids is None else list(ids)
    # The objects alive now (the app, modules, caches: most of the process) are left out of the
    # cyclic garbage collector's full passes while generating: each rescanned them all, about a
    # seventh of a run's time. What becomes garbage meanwhile is still collected. (A process
    # that froze objects itself, say before forking, is left as it is.)
    frozen_here = gc.get_freeze_count() == 0
    if frozen_here:
        gc.freeze()
    try:
        for start in range(0, len(todo), batch):
            chunk = todo[start:start + batch]
            with factory() as session:
                generate_batch(session, chunk, today, summary)
            if progress is not None:
                progress(len(chunk))
    finally:
        if frozen_here:
            gc.unfreeze()
    return summary


def generate_schedule(session: Session, schedule_id: int, today: date, summary: RunSummary) -> int:
    """Every due occurrence of one schedule, in one transaction; the number handled here."""
    return generate_batch(session, [schedule_id], today, summary)


def generate_batch(session: Session, ids: Sequence[int], today: date, summary: RunSummary) -> int:
    """The due occurrences of these schedules in one transaction (one per schedule if another
    process got there first); adds them to ``summary`` once committed, returns how many."""
    try:
        runs = _generate(session, ids, today)
        session.commit()
    except DBAPIError:  # a run another process wrote (or a lock it broke): schedule by schedule
        session.rollback()
        return sum(_retry_alone(session, schedule_id, today, summary) for schedule_id in ids)
    _count(summary, runs)
    return len(runs)


def _retry_alone(session: Session, schedule_id: int, today: date, summary: RunSummary) -> int:
    try:
        runs = _generate(session, [schedule_id], today)
        session.commit()
    except IntegrityError:  # another process placed these occurrences first
        session.rollback()
        return 0
    _count(summary, runs)
    return len(runs)


def _count(summary: RunSummary, runs: list[_Run]) -> None:
    summary.schedules += len({run.schedule.id for run in runs})
    for run in runs:
        summary.add(run.outcome)
        if run.outcome == "failed":
            summary.failures.append((run.schedule.id, run.day, run.reason))


def _paused_on(status: str, paused_until: date | None, day: date) -> bool:
    return status == "paused" and (paused_until is None or day < paused_until)


def _generate(session: Session, ids: Sequence[int], today: date) -> list[_Run]:
    """Claim, decide, place and write one batch (no commit)."""
    schedules = rows.claim(session, ids, today) if ids else []
    if not schedules:
        return []
    skips = rows.skipped(session, [s.id for s in schedules], today)
    runs: list[_Run] = []
    advanced: list[dict] = []
    to_place: list[tuple[rows.Claimed, date]] = []
    for schedule in schedules:
        status, paused_until, day = schedule.status, schedule.paused_until, schedule.next_date
        while day is not None and day <= today:
            following = next(occurrences(schedule.start_date, schedule.cadence, end=schedule.end_date,
                                         after=day), None)
            if (schedule.id, day) in skips:
                runs.append(_Run(schedule, day, "skipped"))
            elif _paused_on(status, paused_until, day):
                runs.append(_Run(schedule, day, "paused"))
            elif following is not None and following <= today:
                runs.append(_Run(schedule, day, "missed", "later_occurrence_due"))
            else:
                to_place.append((schedule, day))
            if status == "paused" and paused_until is not None and (
                    following is None or following >= paused_until):
                status, paused_until = "active", None  # the pause is over
            day = following
        advanced.append({"b_id": schedule.id, "b_next": day, "b_status": status, "b_until": paused_until})
    runs += _place_all(session, to_place)
    rows.write(session, [{
        "recurring_order_id": run.schedule.id, "partner_id": run.schedule.partner_id,
        "occurrence_date": run.day, "outcome": run.outcome, "reason": run.reason,
        "order_id": run.order_id, "detail": run.detail} for run in runs], advanced)
    outbox.queue_many(session, (note for run in runs for note in _notes(run)))
    return runs


def _place_all(session: Session, to_place: list[tuple[rows.Claimed, date]]) -> list[_Run]:
    """Place the orders of a batch's ``created`` occurrences (in the batch's transaction)."""
    if not to_place:
        return []
    partners = rows.partners(session, {schedule.partner_id for schedule, _day in to_place})
    refs = {pid: PartnerRef(p.id, p.code, p.name, p.price_tier_id) for pid, p in partners.items()}
    # What each occurrence orders (a review draft's lines, the address, the PO reference).
    plans = {(schedule.id, day): order_plan(session, schedule, day) for schedule, day in to_place}
    product_ids = {line.product_id for plan in plans.values() for line in plan.lines}
    products = catalog.priced_by_id(session, None, product_ids)  # sold or not, names, SKUs
    prefetched = order_batch.prefetch(session, refs.values(), (p.sku for p in products.values()))
    runs: list[_Run | None] = []
    requests, placing, unavailable_of = [], [], {}
    for schedule, day in to_place:
        if partners[schedule.partner_id].status != "active":
            runs.append(_failed(schedule, day, "partner_inactive", []))
            continue
        wanted, unavailable, options = order_request(schedule, plans[schedule.id, day], products)
        if not wanted:
            runs.append(_failed(schedule, day, "nothing_orderable", unavailable))
            continue
        ref = refs[schedule.partner_id]
        requests.append(order_batch.OrderRequest(Actor(None, "system", ref.id, partner=ref), wanted, {
            "key": order_key(schedule.id, day), "source": "recurring", **options}))
        placing.append((len(runs), schedule, day))
        unavailable_of[len(runs)] = unavailable
        runs.append(None)
    for (n, schedule, day), result in zip(placing, order_batch.place_orders(session, requests, prefetched),
                                          strict=True):
        unavailable = unavailable_of[n]
        if isinstance(result, ServiceError):
            runs[n] = _failed(schedule, day, result.code or "order_refused", unavailable, message=str(result))
        else:  # not created: the order of this key exists (an earlier run that lost its row): link it
            runs[n] = _Run(schedule, day, "created", order_id=result.order.id,
                           detail={"unavailable": unavailable} if unavailable else {})
    return runs


def order_request(schedule: RecurringOrder | rows.Claimed, plan, products: dict[int, catalog.PricedProduct]
                  ) -> tuple[list[orders.LineRequest], list[dict], dict]:
    """What an occurrence orders: its plan's lines (``plan.plan_for``), those left out (no longer
    sold), and the other ``place_order`` arguments (the one place an occurrence's order is decided)."""
    wanted, unavailable = [], []
    for line in plan.lines:
        product = products.get(line.product_id)
        if product is None or not product.active:
            source = product or line.product
            unavailable.append({"sku": source.sku, "name": source.name,
                                "quantity": line.quantity, "why": "no_longer_sold"})
        else:
            wanted.append(orders.LineRequest(product.sku, line.quantity))
    return wanted, unavailable, {"note": schedule.note, "po_reference": plan.po_reference,
                                 "address_id": plan.address_id}


def _failed(schedule: rows.Claimed, day: date, reason: str, unavailable: list[dict],
            message: str = "") -> _Run:
    detail: dict = {"unavailable": unavailable} if unavailable else {}
    if message:
        detail["message"] = message
    return _Run(schedule, day, "failed", reason, detail=detail)


def _notes(run: _Run) -> list[dict]:
    """A failed or partial occurrence's news (``outbox.queue_many``'s notes): for the partner
    (their preferred channel) and their account manager (a task or email); none otherwise."""
    if run.outcome == "failed":
        kind = "recurring_order_failed"
    elif run.detail.get("unavailable"):
        kind = "recurring_order_partial"
    else:
        return []
    schedule, day = run.schedule, run.day
    payload = {"recurring_order_id": schedule.id, "occurrence_date": day.isoformat(),
               "name": schedule.name, "reason": run.reason if run.outcome == "failed" else "",
               "unavailable": [line["name"] for line in run.detail.get("unavailable", [])]}
    subject = f"recurring:{schedule.id}:{day.isoformat()}"
    return [{"partner_id": schedule.partner_id, "kind": kind, "subject_key": subject, "payload": payload,
             "user_id": schedule.created_by_id},  # by the partner's channel
            {"partner_id": schedule.partner_id, "kind": kind, "subject_key": subject + ":manager",
             "payload": payload, "channel": "phone"}]  # a follow-up task for the account manager


def today_in(zone: str) -> date:
    """Today's date in the wholesaler's time zone."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(zone)).date()
