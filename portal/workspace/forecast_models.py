"""Stored forecasts: a refresh run, each partner's next-year forecast in it, and the managers'
adjustments (which belong to the partner, not to a run, so they outlive refreshes until cleared).

Written only by the batch (``workspace.forecasts``); pages and the API read these rows and never
fit a model. Money is NUMERIC (``core.types.Money``); backtest scores are plain ratios.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Partner
from portal.core.types import Money, UTCDateTime, utc_now
from portal.db import Base

RUN_STATUSES = ("running", "complete", "failed")
# What the portal shows: the full method ran (ok), a simpler model stood in (fallback: the
# library's "fallback" and "insufficient_history"), or nothing could be forecast (failed).
FORECAST_STATUSES = ("ok", "fallback", "failed")


class ForecastRun(Base):
    __tablename__ = "forecast_runs"
    __table_args__ = (CheckConstraint(f"status IN {RUN_STATUSES}", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20), default="running")
    source: Mapped[str] = mapped_column(String(20), default="cli")  # cli, celery, demo
    # Horizon, levels, workers, the partner filter, the time zone, the history's first and last month.
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    library_version: Mapped[str] = mapped_column(String(80), default="")
    first_month: Mapped[date]  # the first forecast month (the month the run was made in)
    partner_count: Mapped[int] = mapped_column(default=0)
    failed_count: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PartnerForecast(Base):
    __tablename__ = "partner_forecasts"
    __table_args__ = (
        CheckConstraint(f"status IN {FORECAST_STATUSES}", name="status"),
        UniqueConstraint("run_id", "partner_id"),
        Index("ix_partner_forecasts_partner_id", "partner_id", "run_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("forecast_runs.id", ondelete="CASCADE"))
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20))
    library_status: Mapped[str] = mapped_column(String(30))  # as forecasting returned it
    model: Mapped[str] = mapped_column(String(80), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    history_months: Mapped[int] = mapped_column(default=0)
    total: Mapped[Decimal | None] = mapped_column(Money)
    total_lower_80: Mapped[Decimal | None] = mapped_column(Money)
    total_upper_80: Mapped[Decimal | None] = mapped_column(Money)
    total_lower_95: Mapped[Decimal | None] = mapped_column(Money)
    total_upper_95: Mapped[Decimal | None] = mapped_column(Money)
    # The stored (cheap) backtest: MASE of the method and of seasonal naive, interval coverage.
    mase: Mapped[float | None] = mapped_column(Float)
    naive_mase: Mapped[float | None] = mapped_column(Float)
    coverage_80: Mapped[float | None] = mapped_column(Float)
    coverage_95: Mapped[float | None] = mapped_column(Float)
    backtest_windows: Mapped[int] = mapped_column(default=0)

    run: Mapped[ForecastRun] = relationship()
    months: Mapped[list[ForecastMonth]] = relationship(
        cascade="all, delete-orphan", order_by="ForecastMonth.month")

    @property
    def relative_mase(self) -> float | None:
        """The method's error against repeating last year (< 1: better); None without a backtest."""
        if self.mase is None or not self.naive_mase:
            return None
        return self.mase / self.naive_mase


class ForecastMonth(Base):
    __tablename__ = "forecast_months"
    __table_args__ = (UniqueConstraint("forecast_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    forecast_id: Mapped[int] = mapped_column(ForeignKey("partner_forecasts.id", ondelete="CASCADE"))
    month: Mapped[date]  # the first day of the month
    mean: Mapped[Decimal] = mapped_column(Money)
    lower_80: Mapped[Decimal] = mapped_column(Money)
    upper_80: Mapped[Decimal] = mapped_column(Money)
    lower_95: Mapped[Decimal] = mapped_column(Money)
    upper_95: Mapped[Decimal] = mapped_column(Money)


class ForecastAdjustment(Base):
    """A manager's override of a partner's next-year total (``month`` None) or of one month."""

    __tablename__ = "forecast_adjustments"
    __table_args__ = (
        CheckConstraint("amount >= 0", name="amount"),
        Index("ix_forecast_adjustments_partner_id", "partner_id", "cleared_at"),
        UniqueConstraint("created_by_id", "idempotency_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("forecast_runs.id", ondelete="SET NULL"))
    month: Mapped[date | None]
    amount: Mapped[Decimal] = mapped_column(Money)
    note: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cleared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # API creates: a retry with the same key answers the first adjustment (a different body: 409).
    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    request_hash: Mapped[str | None] = mapped_column(String(64))

    partner: Mapped[Partner] = relationship()
