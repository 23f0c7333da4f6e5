"""The portfolio table (the manager's home): every partner the actor looks after with its stage,
sales, growth, rhythm, churn risk and NPS; filtered, sorted and paged in memory after a fixed
number of queries (the KPIs of the whole portfolio are needed to sort by them), with alerts for
the partners overdue beyond their own rhythm, and the same rows as CSV.

``COLUMNS`` is the list of table columns, in order: the forecasts branch appends its own
(forecast total, interval, trust) there and renders them in ``workspace/_portfolio_cell.html``.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import STAGES, Partner, User
from portal.core import access
from portal.core.access import Actor
from portal.ordering.exports import BOM, neutralise
from portal.workspace import kpis, ladder
from portal.workspace.rhythm import RISKS

PAGE_SIZE = 50
ALERTS = 10
DIRECTIONS = ("asc", "desc")


@dataclass(frozen=True)
class Row:
    partner: Partner
    manager: User | None
    k: kpis.Kpis

    @property
    def suggested_stage(self) -> str:
        return self.k.suggested_stage


def _none_last(value, descending: bool):
    """A sort key putting missing values last whichever the direction."""
    missing = value is None
    if descending:
        return (not missing, value if not missing else 0)
    return (missing, value if not missing else 0)


@dataclass(frozen=True)
class Column:
    key: str
    label: Any
    sort: Callable[[Row], Any] | None   # the value to sort by (None: not sortable)
    csv: Callable[[Row], Any]           # the CSV cell(s) of the column
    csv_names: tuple[str, ...] = ()     # CSV header(s), default (key,)

    @property
    def headers(self) -> tuple[str, ...]:
        return self.csv_names or (self.key,)


def _risk_rank(row: Row):
    return RISKS.index(row.k.churn_risk) if row.k.churn_risk else None


def _money(value: Decimal | None):
    # Numbers stay numbers (not text): ``neutralise`` leaves them alone, so "-0.25" is no formula.
    return None if value is None else value.quantize(Decimal("0.01"))


def _ratio(value: Decimal | None):
    return None if value is None else value.quantize(Decimal("0.0001"))


COLUMNS: list[Column] = [
    Column("partner", _l("Partner"), lambda r: (r.partner.name.lower(), r.partner.id),
           lambda r: (r.partner.code, r.partner.name), ("partner_code", "partner_name")),
    Column("stage", _l("Stage"), lambda r: ladder.rank(r.partner.stage),
           lambda r: (r.partner.stage, r.suggested_stage), ("stage", "suggested_stage")),
    Column("revenue", _l("Last 12 months"), lambda r: r.k.last_12, lambda r: (_money(r.k.last_12),),
           ("net_sales_last_12_months",)),
    Column("growth", _l("Growth"), lambda r: r.k.growth, lambda r: (_ratio(r.k.growth),), ("growth",)),
    Column("rhythm", _l("Days since last order"), lambda r: r.k.rhythm.days_since,
           lambda r: (r.k.rhythm.days_since if r.k.rhythm.days_since is not None else "",
                      "" if r.k.rhythm.usual_gap is None else f"{r.k.rhythm.usual_gap:g}",
                      "yes" if r.k.rhythm.overdue else "no"),
           ("days_since_last_order", "usual_gap_days", "overdue")),
    Column("risk", _l("Churn risk"), _risk_rank, lambda r: (r.k.churn_risk or "",), ("churn_risk",)),
    Column("nps", _l("NPS"), lambda r: r.k.latest_nps,
           lambda r: ("" if r.k.latest_nps is None else r.k.latest_nps, "" if r.k.nps is None else r.k.nps),
           ("latest_nps", "nps_12_months")),
    # --- the forecasts branch appends its columns (forecast total, 80 % interval, trust) here ---
]
SORTS = tuple(c.key for c in COLUMNS if c.sort is not None)


@dataclass(frozen=True)
class Filters:
    q: str = ""
    stage: str | None = None
    risk: str | None = None
    overdue: bool = False
    manager_id: int | None = None  # admins only
    sort: str = "risk"
    direction: str = "desc"


@dataclass(frozen=True)
class Portfolio:
    rows: list[Row]          # this page
    total: int               # rows matching the filters
    page: int
    pages: int
    alerts: list[Row]        # overdue partners, most overdue first (whatever the filters)
    partners: int            # every partner of the portfolio


def _visible(session: Session, actor: Actor, filters: Filters) -> list[tuple[Partner, User | None]]:
    stmt = access.scope(select(Partner, User).outerjoin(User, User.id == Partner.account_manager_id),
                        actor, Partner.id)
    if not actor.is_staff:
        stmt = stmt.where(Partner.id.is_(None))
    if filters.manager_id is not None and actor.sees_all:
        stmt = stmt.where(Partner.account_manager_id == filters.manager_id)
    return [(p, m) for p, m in session.execute(stmt.order_by(Partner.name, Partner.id))]


def rows(session: Session, actor: Actor, filters: Filters, *, now: datetime | None = None,
         zone: tzinfo = UTC) -> tuple[list[Row], list[Row], int]:
    """(matching rows sorted, alerts, partners in all) for the whole portfolio: 1 + ``kpis.QUERIES``
    queries, whatever its size."""
    found = _visible(session, actor, filters)
    figures = kpis.compute(session, [p.id for p, _m in found], now=now, zone=zone)
    everything = [Row(p, m, figures[p.id]) for p, m in found]
    alerts = sorted((r for r in everything if r.k.rhythm.overdue and r.partner.status == "active"),
                    key=lambda r: (-r.k.rhythm.days_overdue, r.partner.name))[:ALERTS]
    needle = filters.q.casefold()
    matching = [r for r in everything
                if (not needle or needle in r.partner.name.casefold() or needle in r.partner.code.casefold())
                and (filters.stage is None or r.partner.stage == filters.stage)
                and (filters.risk is None or r.k.churn_risk == filters.risk)
                and (not filters.overdue or r.k.rhythm.overdue)]
    column = next(c for c in COLUMNS if c.key == (filters.sort if filters.sort in SORTS else "risk"))
    descending = filters.direction == "desc"
    matching.sort(key=lambda r: (r.partner.name.lower(), r.partner.id))
    matching.sort(key=lambda r: _none_last(column.sort(r), descending), reverse=descending)
    return matching, alerts, len(everything)


def portfolio(session: Session, actor: Actor, filters: Filters, *, page: int = 1, per_page: int = PAGE_SIZE,
              now: datetime | None = None, zone: tzinfo = UTC) -> Portfolio:
    matching, alerts, everything = rows(session, actor, filters, now=now, zone=zone)
    pages = max(1, -(-len(matching) // per_page))
    page = min(max(1, page), pages)
    return Portfolio(matching[(page - 1) * per_page:page * per_page], len(matching), page, pages, alerts,
                     everything)


def to_csv(found: list[Row]) -> Iterator[str]:
    """The rows as CSV (a BOM for Excel; text cells neutralised against formula injection)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([name for c in COLUMNS for name in c.headers])
    for row in found:
        writer.writerow([neutralise(cell) for c in COLUMNS for cell in c.csv(row)])
    yield BOM + buffer.getvalue()


STAGE_CHOICES = STAGES
RISK_CHOICES = RISKS
