"""The forecast batch: the one bridge between the portal and the ``forecasting`` library.

``refresh`` reads every partner's monthly net sales (one aggregate query, ``monthly_sales``),
calls ``forecasting.forecast_many`` and stores a new ``ForecastRun`` with a ``PartnerForecast``
per partner (a partner whose forecast raises is stored as failed with the reason; the rest go
on). A run is never overwritten: pages read the latest complete one (``forecast_store``).
The Celery task uses the same pieces per chunk (``start_run``, ``forecast_chunk``,
``finish_run``), so a run made by workers holds the same figures as one made by the CLI.

No web request calls this module.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from importlib import metadata

import pandas as pd
from dateutil.relativedelta import relativedelta
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

import forecasting
from portal.accounts.models import Partner
from portal.core.errors import ServiceError
from portal.core.money import MAX_MONEY, ZERO, to_money
from portal.core.types import utc_now
from portal.workspace import monthly_sales
from portal.workspace.forecast_models import ForecastMonth, ForecastRun, PartnerForecast

HORIZON = 12
LEVELS = (80, 95)
HISTORY_YEARS = 8  # the months handed to the library; older sales do not change next year's
_STATUS = {"ok": "ok", "fallback": "fallback", "insufficient_history": "fallback", "error": "failed"}


def library_version() -> str:
    try:
        trellis = metadata.version("trellis")
    except metadata.PackageNotFoundError:
        trellis = "dev"
    import statsmodels

    return f"forecasting {trellis}, statsmodels {statsmodels.__version__}"


def partner_ids(session: Session, codes: Sequence[str] | None = None) -> list[int]:
    """The partners to forecast: every one, or those with these codes (unknown ones refused)."""
    stmt = select(Partner.id, Partner.code).order_by(Partner.id)
    if codes:
        stmt = stmt.where(Partner.code.in_(list(codes)))
    rows = session.execute(stmt).all()
    if codes:
        missing = sorted(set(codes) - {code for _id, code in rows})
        if missing:
            raise ServiceError("No partner with the code(s): " + ", ".join(missing), field="partners")
    return [row_id for row_id, _code in rows]


def start_run(session: Session, *, time_zone: str, codes: Sequence[str] | None = None,
              workers: int = 1, source: str = "cli", now: datetime | None = None) -> ForecastRun:
    """A new run (status running) for the partners chosen now; committed."""
    ids = partner_ids(session, codes)
    first_month = monthly_sales.local_month(now or utc_now(), time_zone)
    last = first_month - relativedelta(months=1)
    run = ForecastRun(
        status="running", source=source, library_version=library_version(), first_month=first_month,
        partner_count=len(ids),
        settings={"horizon": HORIZON, "levels": list(LEVELS), "workers": workers,
                  "partners": list(codes or []), "time_zone": time_zone,
                  "history_first": (last - relativedelta(years=HISTORY_YEARS, months=-1)).isoformat(),
                  "history_last": last.isoformat(), "partner_ids": ids},
    )
    session.add(run)
    session.commit()
    return run


def histories(session: Session, run: ForecastRun, ids: Sequence[int]) -> dict[int, pd.Series]:
    """Each partner's monthly sales as the library takes them (floats, zero months filled)."""
    first = datetime.fromisoformat(run.settings["history_first"]).date()
    last = datetime.fromisoformat(run.settings["history_last"]).date()
    sales = monthly_sales.monthly_sales(session, first=first, last=last,
                                        time_zone=run.settings["time_zone"], partner_ids=ids)
    out = {}
    for partner_id in ids:
        own = sales.get(partner_id, {})
        start = min(own) if own else last
        points = monthly_sales.series(own, start, last)
        index = pd.DatetimeIndex([pd.Timestamp(month) for month, _ in points])
        out[partner_id] = pd.Series([float(value) for _, value in points], index=index, dtype=float)
        if not own:
            out[partner_id] = out[partner_id].iloc[:0]
    return out


def _money(value) -> Decimal:
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        return ZERO
    return min(to_money(Decimal(str(round(number, 2)))), MAX_MONEY)


def _score(value) -> float | None:
    return None if value is None or not math.isfinite(float(value)) else float(value)


def to_row(run_id: int, partner_id: int, result: forecasting.Forecast, history_months: int
           ) -> PartnerForecast:
    """A stored forecast from the library's result (months, bounds, total, backtest)."""
    status = _STATUS.get(result.status, "failed")
    row = PartnerForecast(run_id=run_id, partner_id=partner_id, status=status,
                          library_status=result.status, model=result.model[:80],
                          reason=result.reason or "", history_months=history_months)
    if status == "failed" or result.mean.empty:
        row.status = "failed"
        row.reason = row.reason or "no forecast could be made"
        return row
    for i, month in enumerate(result.mean.index):
        row.months.append(ForecastMonth(
            month=pd.Timestamp(month).date(),
            mean=_money(result.mean.iloc[i]),
            lower_80=_money(result.lower[80].iloc[i]), upper_80=_money(result.upper[80].iloc[i]),
            lower_95=_money(result.lower[95].iloc[i]), upper_95=_money(result.upper[95].iloc[i])))
    mean, low80, high80 = result.total(80)
    _, low95, high95 = result.total(95)
    row.total = sum((m.mean for m in row.months), ZERO)
    row.total_lower_80, row.total_upper_80 = _money(low80), _money(high80)
    row.total_lower_95, row.total_upper_95 = _money(low95), _money(high95)
    backtest = result.backtest
    if backtest is not None:
        row.mase, row.naive_mase = _score(backtest.mase), _score(backtest.naive_mase)
        row.coverage_80 = _score(backtest.coverage.get(80))
        row.coverage_95 = _score(backtest.coverage.get(95))
        row.backtest_windows = len(backtest.windows)
    return row


def forecast_chunk(session: Session, run_id: int, ids: Sequence[int], *, workers: int = 1,
                   progress: Callable[[int, int], None] | None = None) -> int:
    """Forecast these partners for the run and store them (again: replaces this chunk's rows)."""
    run = session.get(ForecastRun, run_id)
    if run is None:
        raise ServiceError(f"No forecast run {run_id}.")
    series = histories(session, run, ids)
    end = pd.Timestamp(datetime.fromisoformat(run.settings["history_last"]))
    results = forecasting.forecast_many(series, horizon=HORIZON, level=LEVELS, workers=workers,
                                        progress=progress, end=end, negatives="clip")
    session.execute(delete(PartnerForecast).where(PartnerForecast.run_id == run_id,
                                                  PartnerForecast.partner_id.in_(list(ids))))
    for partner_id in ids:
        months = int((series[partner_id] > 0).cumsum().gt(0).sum())
        session.add(to_row(run_id, partner_id, results[partner_id], months))
    session.commit()
    return len(ids)


def finish_run(session: Session, run_id: int) -> ForecastRun:
    """Mark the run complete once every partner has its row (failed if some are missing)."""
    run = session.get(ForecastRun, run_id)
    stored = session.scalar(select(func.count(PartnerForecast.id)).where(PartnerForecast.run_id == run_id))
    failed = session.scalar(select(func.count(PartnerForecast.id)).where(
        PartnerForecast.run_id == run_id, PartnerForecast.status == "failed"))
    run.failed_count = failed or 0
    run.finished_at = utc_now()
    if stored == run.partner_count:
        run.status = "complete"
    else:
        run.status, run.error = "failed", f"{stored} of {run.partner_count} partners stored"
    session.commit()
    return run


def fail_run(session: Session, run_id: int, error: str) -> None:
    session.rollback()
    session.execute(update(ForecastRun).where(ForecastRun.id == run_id).values(
        status="failed", error=error[:2000], finished_at=utc_now()))
    session.commit()


def refresh(factory: sessionmaker, *, time_zone: str, codes: Sequence[str] | None = None,
            workers: int = 1, source: str = "cli", now: datetime | None = None,
            progress: Callable[[int, int], None] | None = None) -> ForecastRun:
    """Forecast every (or the chosen) partner and store one new complete run."""
    with factory() as session:
        run = start_run(session, time_zone=time_zone, codes=codes, workers=workers, source=source,
                        now=now)
        run_id, ids = run.id, list(run.settings["partner_ids"])
        try:
            forecast_chunk(session, run_id, ids, workers=workers, progress=progress)
            run = finish_run(session, run_id)
        except Exception as exc:
            fail_run(session, run_id, f"{type(exc).__name__}: {exc}")
            raise
        session.expunge(run)
        return run
