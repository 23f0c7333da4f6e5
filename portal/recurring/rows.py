"""A generation batch's reads and writes, by Core statements (``engine`` decides what they are).

The engine claims a batch of schedules, reads their lines and skipped dates, and writes their
runs and new dates. Through the ORM that cost more CPU than the database's work (objects built,
instrumented and flushed one by one), so here they are plain rows and a few statements per
batch: on PostgreSQL the id lists travel as one array parameter (``= ANY(:ids)``; an IN list of
250 placeholders costs the driver more to parse than the database to run) and the rows written
as one JSON document; on SQLite, in-process, a statement per row costs no round trip.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import ARRAY, Integer, any_, bindparam, insert, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from portal.accounts.models import Partner
from portal.catalog.models import Product
from portal.core.types import utc_now
from portal.recurring.models import RecurringLine, RecurringOrder, RecurringRun, RecurringSkip


@dataclass
class Line:
    product_id: int
    quantity: int
    session: Session = field(repr=False, compare=False)

    @property
    def product(self) -> Product:  # read only for a line that cannot be ordered
        return self.session.get(Product, self.product_id)


@dataclass
class Claimed:
    """A claimed schedule's row and lines: what ``plan.plan_for`` and the engine read of a
    RecurringOrder."""

    id: int
    partner_id: int
    created_by_id: int | None
    name: str
    cadence: str
    start_date: date
    end_date: date | None
    mode: str
    status: str
    paused_until: date | None
    next_date: date | None
    address_id: int | None
    po_pattern: str
    note: str
    lines: list[Line] = field(default_factory=list)


def _among(column, postgresql: bool):
    """``column IN :ids``; on PostgreSQL ``column = ANY(:ids)``, one array parameter."""
    return (column == any_(bindparam("ids", type_=ARRAY(Integer))) if postgresql
            else column.in_(bindparam("ids", expanding=True)))


def _postgresql(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


_SCHEDULES = RecurringOrder.__table__
_CLAIM = {pg: (select(*(_SCHEDULES.c[name] for name in Claimed.__dataclass_fields__ if name != "lines"))
               .where(_among(_SCHEDULES.c.id, pg), _SCHEDULES.c.status != "cancelled",
                      _SCHEDULES.c.next_date <= bindparam("today"))
               .order_by(_SCHEDULES.c.partner_id, _SCHEDULES.c.id)) for pg in (True, False)}
_CLAIM[True] = _CLAIM[True].with_for_update(skip_locked=True)
_LINES = {pg: (select(RecurringLine.recurring_order_id, RecurringLine.product_id, RecurringLine.quantity)
               .where(_among(RecurringLine.recurring_order_id, pg))
               .order_by(RecurringLine.recurring_order_id, RecurringLine.id)) for pg in (True, False)}
_SKIPS = {pg: (select(RecurringSkip.recurring_order_id, RecurringSkip.occurrence_date)
               .where(_among(RecurringSkip.recurring_order_id, pg),
                      RecurringSkip.occurrence_date <= bindparam("today"))) for pg in (True, False)}
_PARTNERS = {pg: (select(Partner.id, Partner.code, Partner.name, Partner.price_tier_id, Partner.status)
                  .where(_among(Partner.id, pg))) for pg in (True, False)}


def claim(session: Session, ids: Sequence[int], today: date) -> list[Claimed]:
    """Lock the schedules of ``ids`` still due, in (partner, id) order, with their lines (those
    another worker holds are skipped: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL)."""
    session.flush()  # the caller's pending changes first (Core statements do not autoflush)
    connection = session.connection()
    pg = _postgresql(connection)
    if not pg:
        # No row locks: a first write takes the database's write lock (waiting for another
        # writer), so what is read next is what the other writer committed.
        connection.execute(update(_SCHEDULES).where(_SCHEDULES.c.id.in_(ids))
                           .values(next_date=_SCHEDULES.c.next_date, updated_at=_SCHEDULES.c.updated_at))
    schedules = {row.id: Claimed(**row._mapping)
                 for row in connection.execute(_CLAIM[pg], {"ids": list(ids), "today": today})}
    if schedules:
        for line in connection.execute(_LINES[pg], {"ids": list(schedules)}):
            schedules[line.recurring_order_id].lines.append(Line(line.product_id, line.quantity, session))
    return list(schedules.values())


def skipped(session: Session, ids: Iterable[int], today: date) -> set[tuple[int, date]]:
    """The (schedule, date) pairs of these schedules the partner skipped, up to ``today``."""
    connection = session.connection()
    return set(connection.execute(_SKIPS[_postgresql(connection)], {"ids": list(ids), "today": today}).all())


def partners(session: Session, ids: Iterable[int]) -> dict:
    """The partners of ``ids`` (id, code, name, price tier, status), by id."""
    connection = session.connection()
    return {row.id: row for row in connection.execute(_PARTNERS[_postgresql(connection)], {"ids": list(ids)})}


def write(session: Session, runs: list[dict], advanced: list[dict]) -> None:
    """Insert the runs (RecurringRun's columns) and move the schedules on (``b_id``, ``b_next``,
    ``b_status``, ``b_until``); the session's copies of those schedules are read again when used."""
    connection = session.connection()
    if _postgresql(connection):
        now = utc_now()
        connection.execute(_INSERT_RUNS_POSTGRESQL, {"now": now, "rows": json.dumps(
            [{**row, "n": n} for n, row in enumerate(runs)], default=str)})
        connection.execute(_ADVANCE_POSTGRESQL, {"now": now, "rows": json.dumps(advanced, default=str)})
    else:
        connection.execute(insert(RecurringRun.__table__), runs)
        connection.execute(_ADVANCE, advanced)
    ids = {row["b_id"] for row in advanced}
    for key, instance in list(session.identity_map.items()):  # written by Core: now stale
        if key[0] is RecurringOrder and key[1][0] in ids:
            session.expire(instance, ["next_date", "status", "paused_until", "updated_at"])


_INSERT_RUNS_POSTGRESQL = text("""
INSERT INTO recurring_runs (recurring_order_id, partner_id, occurrence_date, outcome, reason, order_id,
                            detail, created_at)
SELECT recurring_order_id, partner_id, occurrence_date, outcome, reason, order_id, detail, :now
FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(n int, recurring_order_id int, partner_id int,
     occurrence_date date, outcome varchar, reason varchar, order_id int, detail json)
ORDER BY n
""")
_ADVANCE = (update(_SCHEDULES).where(_SCHEDULES.c.id == bindparam("b_id"))
            .values(next_date=bindparam("b_next"), status=bindparam("b_status"),
                    paused_until=bindparam("b_until")))
_ADVANCE_POSTGRESQL = text("""
UPDATE recurring_orders r SET next_date = a.b_next, status = a.b_status, paused_until = a.b_until,
       updated_at = :now
FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS a(b_id int, b_next date, b_status varchar, b_until date)
WHERE r.id = a.b_id
""")
