"""The portfolio table (the manager's home): every partner the actor looks after with its stage,
sales, growth, rhythm, churn risk, NPS and next-year forecast with its trust; filtered, sorted and
paged over the whole portfolio, with the portfolio's forecast total and the alerts (overdue beyond
their own rhythm, forecasts that fell most, failed forecasts), and the same rows as CSV.

How it stays fast with thousands of partners: sorting, filtering and the alerts need only a few
figures of every partner (``kpis.keys``: three grouped queries; the forecast figures: plain
columns of the latest run), read as plain rows; the full KPIs (``kpis.compute``) and the ORM
partners are read only for the rows shown (the page, or every matching row for the CSV). A
constant number of queries whatever the portfolio's size.

``COLUMNS`` is the list of table columns, in order; each cell is rendered by
``workspace/_portfolio_cell.html``.
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
from portal.core.types import utc_now
from portal.ordering.exports import BOM, neutralise
from portal.workspace import forecast_portfolio, kpis, ladder
from portal.workspace.forecast_portfolio import PartnerFigure, PortfolioForecast
from portal.workspace.rhythm import RISKS

PAGE_SIZE = 50
ALERTS = 10
DIRECTIONS = ("asc", "desc")


@dataclass(frozen=True)
class Line:
    """A partner as the sort and filter pass reads it (plain columns, not an ORM object)."""

    id: int
    name: str
    code: str
    stage: str
    status: str
    account_manager_id: int | None


@dataclass(frozen=True)
class Row:
    partner: Partner | Line           # a Line (and ``kpis.Keys``) only in the sort pass and the alerts
    manager: User | None
    k: kpis.Kpis | kpis.Keys
    f: PartnerFigure | None = None    # the latest forecast run's figures (None: not in it)

    @property
    def suggested_stage(self) -> str:
        return self.k.suggested_stage

    @property
    def forecast(self) -> Decimal | None:
        """The next-year total the manager counts on: adjusted if adjusted, else statistical."""
        if self.f is None or self.f.status == "failed":
            return None
        return self.f.expected

    @property
    def trust(self) -> str | None:
        return None if self.f is None or self.f.status == "failed" else self.f.trust


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


TRUSTS = ("better", "no_better", "unknown")


def _trust_rank(row: Row):
    """Better than repeating last year sorts above no better; no backtest (or no forecast) last."""
    return {"better": 1, "no_better": 0}.get(row.trust or "")


def _forecast_csv(row: Row) -> tuple:
    f = row.f
    if f is None or f.status == "failed":
        return (None, None, None, None, None, "failed" if f is not None else "")
    return (_money(row.forecast), _money(f.total), _money(f.lower_80), _money(f.upper_80),
            _money(f.adjusted_total), f.status)


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
    Column("forecast", _l("Next 12 months (forecast)"), lambda r: r.forecast, _forecast_csv,
           ("forecast_next_12_months", "forecast_statistical", "forecast_lower_80", "forecast_upper_80",
            "forecast_adjusted", "forecast_status")),
    Column("trust", _l("Forecast trust"), _trust_rank, lambda r: (r.trust or "",), ("forecast_trust",)),
]
SORTS = tuple(c.key for c in COLUMNS if c.sort is not None)


@dataclass(frozen=True)
class Filters:
    q: str = ""
    stage: str | None = None
    risk: str | None = None
    overdue: bool = False
    trust: str | None = None       # better / no_better / unknown (no backtest or no forecast)
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
    forecast: PortfolioForecast | None = None  # the total, its interval, falls and failures


def _visible(session: Session, actor: Actor, filters: Filters) -> list[Line]:
    stmt = access.scope(select(Partner.id, Partner.name, Partner.code, Partner.stage, Partner.status,
                               Partner.account_manager_id), actor, Partner.id)
    if not actor.is_staff:
        stmt = stmt.where(Partner.id.is_(None))
    if filters.manager_id is not None and actor.sees_all:
        stmt = stmt.where(Partner.account_manager_id == filters.manager_id)
    return [Line(*row) for row in session.execute(stmt.order_by(Partner.name, Partner.id))]


def _keep(row: Row, filters: Filters, needle: str) -> bool:
    return ((not needle or needle in row.partner.name.casefold() or needle in row.partner.code.casefold())
            and (filters.stage is None or row.partner.stage == filters.stage)
            and (filters.risk is None or row.k.churn_risk == filters.risk)
            and (not filters.overdue or row.k.rhythm.overdue)
            and (filters.trust is None or (row.trust or "unknown") == filters.trust))


def _sorted(session: Session, actor: Actor, filters: Filters, now: datetime | None, zone: tzinfo
            ) -> tuple[list[Row], list[Row], int, PortfolioForecast]:
    """(matching rows sorted, alerts, partners in all, forecast figures) from the cheap figures of
    every partner: 1 + ``kpis.KEY_QUERIES`` + the forecast's queries."""
    lines = _visible(session, actor, filters)
    keys = kpis.keys(session, [line.id for line in lines], now=now, zone=zone)
    forecast = forecast_portfolio.forecast_of(session, {line.id: line.name for line in lines})
    everything = [Row(line, None, keys[line.id], forecast.partners.get(line.id)) for line in lines]
    alerts = sorted((r for r in everything if r.k.rhythm.overdue and r.partner.status == "active"),
                    key=lambda r: (-r.k.rhythm.days_overdue, r.partner.name))[:ALERTS]
    needle = filters.q.casefold()
    matching = [r for r in everything if _keep(r, filters, needle)]
    column = next(c for c in COLUMNS if c.key == (filters.sort if filters.sort in SORTS else "risk"))
    descending = filters.direction == "desc"
    matching.sort(key=lambda r: (r.partner.name.lower(), r.partner.id))
    matching.sort(key=lambda r: _none_last(column.sort(r), descending), reverse=descending)
    return matching, alerts, len(everything), forecast


def _full(session: Session, light: list[Row], now: datetime, zone: tzinfo) -> list[Row]:
    """The same rows, in the same order, with their partners, managers and full KPIs:
    ``kpis.QUERIES`` queries (the order days are those already read)."""
    if not light:
        return []
    ids = [r.partner.id for r in light]
    found = {p.id: (p, m) for p, m in session.execute(
        select(Partner, User).outerjoin(User, User.id == Partner.account_manager_id).where(Partner.id.in_(ids)))}
    figures = kpis.compute(session, ids, now=now, zone=zone, order_days={r.partner.id: r.k.days for r in light})
    return [Row(*found[r.partner.id], figures[r.partner.id], r.f) for r in light]


def rows(session: Session, actor: Actor, filters: Filters, *, now: datetime | None = None,
         zone: tzinfo = UTC) -> tuple[list[Row], list[Row], int]:
    """(every matching row sorted, with full KPIs; alerts; partners in all): a constant number of
    queries, whatever the portfolio's size (the CSV)."""
    now = now or utc_now()
    matching, alerts, everything, _forecast = _sorted(session, actor, filters, now, zone)
    return _full(session, matching, now, zone), alerts, everything


def portfolio(session: Session, actor: Actor, filters: Filters, *, page: int = 1, per_page: int = PAGE_SIZE,
              now: datetime | None = None, zone: tzinfo = UTC) -> Portfolio:
    """One page of the sorted, filtered portfolio (full KPIs for its rows only), the alerts and
    the portfolio's forecast figures."""
    now = now or utc_now()
    matching, alerts, everything, forecast = _sorted(session, actor, filters, now, zone)
    pages = max(1, -(-len(matching) // per_page))
    page = min(max(1, page), pages)
    shown = _full(session, matching[(page - 1) * per_page:page * per_page], now, zone)
    return Portfolio(shown, len(matching), page, pages, alerts, everything, forecast)


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
