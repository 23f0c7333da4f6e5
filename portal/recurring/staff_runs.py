"""What staff read of standing-order generation: every visible partner's runs (created, failed
with their reasons, missed, skipped, paused), filtered by day, partner and outcome, a page at a
time or as CSV. A manager sees the partners assigned to them, an admin all; partner users none."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from portal.accounts.models import Partner
from portal.core import access
from portal.core.access import Actor
from portal.core.labels import label
from portal.core.paging import Page, paginate
from portal.ordering.exports import BOM, neutralise
from portal.recurring.models import RecurringOrder, RecurringRun

RUNS_PER_PAGE = 25
CHUNK = 1000  # rows fetched per round trip by the CSV export
CSV_COLUMNS = ("occurrence_date", "partner_code", "partner_name", "standing_order_id",
               "standing_order_name", "outcome", "reason_code", "reason", "order_id", "not_ordered",
               "recorded_at")


@dataclass(frozen=True)
class RunFilters:
    date_from: date | None = None  # occurrence dates, inclusive
    date_to: date | None = None
    partner_id: int | None = None
    outcome: str = ""


@dataclass(frozen=True)
class RunRow:
    run: RecurringRun
    partner_code: str
    partner_name: str
    schedule_name: str

    @property
    def reason_text(self) -> str:
        """Why, in words: the reason's label, and the refusal's own message where there is one."""
        words = label(self.run.reason) if self.run.reason else ""
        message = str((self.run.detail or {}).get("message", ""))
        return f"{words}: {message}" if words and message else words or message

    @property
    def not_ordered(self) -> list[str]:
        return [str(line.get("name", "")) for line in (self.run.detail or {}).get("unavailable", [])]


def _select(actor: Actor, filters: RunFilters) -> Select:
    stmt = (select(RecurringRun, Partner.code, Partner.name, RecurringOrder.name)
            .join(Partner, Partner.id == RecurringRun.partner_id)
            .join(RecurringOrder, RecurringOrder.id == RecurringRun.recurring_order_id))
    stmt = access.scope(stmt, actor, RecurringRun.partner_id)
    if filters.partner_id is not None:
        stmt = stmt.where(RecurringRun.partner_id == filters.partner_id)
    if filters.outcome:
        stmt = stmt.where(RecurringRun.outcome == filters.outcome)
    if filters.date_from is not None:
        stmt = stmt.where(RecurringRun.occurrence_date >= filters.date_from)
    if filters.date_to is not None:
        stmt = stmt.where(RecurringRun.occurrence_date <= filters.date_to)
    return stmt.order_by(RecurringRun.occurrence_date.desc(), RecurringRun.id.desc())


def list_runs(session: Session, actor: Actor, filters: RunFilters, *, page: int = 1) -> Page[RunRow]:
    """One page of the runs of the partners the staff member looks after, newest date first."""
    found = paginate(session, _select(actor, filters), page=page, per_page=RUNS_PER_PAGE, scalars=False)
    return Page([RunRow(*row) for row in found.items], found.page, found.per_page, found.total)


def runs_csv(session: Session, actor: Actor, filters: RunFilters) -> Iterator[str]:
    """Stream the filtered runs as CSV (UTF-8 BOM, header; text a spreadsheet would run is quoted)."""
    buffer = io.StringIO()
    out = csv.writer(buffer)
    buffer.write(BOM)
    out.writerow(CSV_COLUMNS)
    rows = session.execute(_select(actor, filters).execution_options(yield_per=CHUNK))
    for n, found in enumerate(rows, start=1):
        row = RunRow(*found)
        run = row.run
        out.writerow([
            run.occurrence_date.isoformat(), neutralise(row.partner_code), neutralise(row.partner_name),
            run.recurring_order_id, neutralise(row.schedule_name), run.outcome, neutralise(run.reason),
            neutralise(row.reason_text), run.order_id or "", neutralise(", ".join(row.not_ordered)),
            run.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        ])
        if n % CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
