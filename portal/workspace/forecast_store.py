"""Reading stored forecasts and the managers' adjustments to them (no model is fitted here).

Pages and the API read the latest *complete* run. An adjustment overrides a partner's next-year
total or single months with a required note; it belongs to the partner, so a refresh keeps it,
until the manager clears it. How the adjusted line is made (``adjusted_months``): months with
their own override take it; with a total override the other months are scaled so the year adds
up to it; without one the adjusted total is the sum of the adjusted months.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from portal.accounts.models import Partner
from portal.core import access, audit
from portal.core.access import Actor
from portal.core.errors import Conflict, NotFound, ServiceError
from portal.core.money import MAX_MONEY, ZERO, to_money
from portal.core.types import utc_now
from portal.workspace.forecast_models import ForecastAdjustment, ForecastRun, PartnerForecast

MAX_NOTE = 2000


def latest_run(session: Session) -> ForecastRun | None:
    """The newest complete run (a running or failed one is never shown)."""
    return session.scalar(select(ForecastRun).where(ForecastRun.status == "complete")
                          .order_by(ForecastRun.finished_at.desc(), ForecastRun.id.desc()).limit(1))


def previous_run(session: Session, run: ForecastRun) -> ForecastRun | None:
    return session.scalar(select(ForecastRun).where(ForecastRun.status == "complete",
                                                    ForecastRun.id != run.id,
                                                    ForecastRun.finished_at <= run.finished_at)
                          .order_by(ForecastRun.finished_at.desc(), ForecastRun.id.desc()).limit(1))


def trust(forecast: PartnerForecast | None) -> str:
    """``better`` (the method beat repeating last year on this partner's past), ``no_better``,
    or ``unknown`` (too short a history for a backtest, or no forecast)."""
    if forecast is None:
        return "unknown"
    return trust_of(forecast.mase, forecast.naive_mase)


def trust_of(mase: float | None, naive_mase: float | None) -> str:
    """``trust`` from the two stored backtest errors (``PartnerForecast.relative_mase``'s rule)."""
    if mase is None or not naive_mase:
        return "unknown"
    return "better" if mase / naive_mase < 1 else "no_better"


def adjusted_months(months: list[tuple[date, Decimal]], adjustments: list[ForecastAdjustment]
                    ) -> tuple[list[tuple[date, Decimal]], Decimal] | None:
    """The adjusted monthly line and total, or None when no adjustment applies to these months."""
    by_month = {a.month: a.amount for a in adjustments if a.month is not None}
    total_override = next((a.amount for a in adjustments if a.month is None), None)
    fixed = {month: by_month[month] for month, _mean in months if month in by_month}
    if not fixed and total_override is None:
        return None
    line = [(month, fixed.get(month, mean)) for month, mean in months]
    if total_override is None:
        return line, sum((value for _m, value in line), ZERO)
    rest = max(total_override - sum(fixed.values(), ZERO), ZERO)
    free = sum((mean for month, mean in months if month not in fixed), ZERO)
    count = sum(1 for month, _ in months if month not in fixed)
    scaled = []
    for month, mean in months:
        if month in fixed:
            scaled.append((month, fixed[month]))
        elif free:
            scaled.append((month, to_money(mean * rest / free)))
        else:
            scaled.append((month, to_money(rest / count)))
    return scaled, total_override


@dataclass(frozen=True)
class PartnerForecastView:
    partner: Partner
    run: ForecastRun | None
    forecast: PartnerForecast | None
    adjustments: list[ForecastAdjustment]  # in effect, newest first
    adjusted: list[tuple[date, Decimal]] | None
    adjusted_total: Decimal | None

    @property
    def trust(self) -> str:
        return trust(self.forecast)

    @property
    def months(self):
        return self.forecast.months if self.forecast is not None else []


def _staff_partner(session: Session, actor: Actor, partner_id: int) -> Partner:
    if not (actor.is_staff or actor.sees_all):
        raise NotFound("Not found.", foreign=True)
    return access.get_visible(session, actor, Partner, partner_id, partner_of=lambda p: p.id)


def active_adjustments(session: Session, partner_id: int) -> list[ForecastAdjustment]:
    return list(session.scalars(
        select(ForecastAdjustment).where(ForecastAdjustment.partner_id == partner_id,
                                         ForecastAdjustment.cleared_at.is_(None))
        .order_by(ForecastAdjustment.created_at.desc(), ForecastAdjustment.id.desc())))


def partner_forecast(session: Session, actor: Actor, partner_id: int) -> PartnerForecastView:
    """A partner's forecast in the latest complete run, with its adjustments (``NotFound`` for a
    partner the actor may not see)."""
    partner = _staff_partner(session, actor, partner_id)
    run = latest_run(session)
    forecast = None
    if run is not None:
        forecast = session.scalar(select(PartnerForecast).options(selectinload(PartnerForecast.months))
                                  .where(PartnerForecast.run_id == run.id,
                                         PartnerForecast.partner_id == partner.id))
    adjustments = active_adjustments(session, partner.id)
    adjusted = None
    if forecast is not None and forecast.months:
        adjusted = adjusted_months([(m.month, m.mean) for m in forecast.months], adjustments)
    return PartnerForecastView(partner, run, forecast, adjustments,
                               adjusted[0] if adjusted else None, adjusted[1] if adjusted else None)


def add_adjustment(session: Session, actor: Actor, partner_id: int, *, amount: Decimal,
                   note: str, month: date | None = None, key: str | None = None
                   ) -> tuple[ForecastAdjustment, bool]:
    """Override the next-year total (``month`` None) or one forecast month, with a note (audited).
    A newer override of the same total or month replaces the one in effect. With an idempotency
    ``key`` a retry answers the adjustment first made with it. Returns (adjustment, created)."""
    partner = _staff_partner(session, actor, partner_id)
    fingerprint = None
    if key:
        body = {"partner": partner.id, "amount": str(amount), "note": (note or "").strip(),
                "month": month.isoformat() if month else None}
        fingerprint = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        existing = session.scalar(select(ForecastAdjustment).where(
            ForecastAdjustment.created_by_id == actor.user_id, ForecastAdjustment.idempotency_key == key))
        if existing is not None:
            if existing.request_hash != fingerprint:
                raise Conflict(_("This idempotency key was already used for a different adjustment. "
                                 "Use a new key for a new one."), code="idempotency_key_reused")
            return existing, False
    note = (note or "").strip()
    if not note:
        raise ServiceError(_("Say why: a note is required with an adjustment."), field="note")
    if len(note) > MAX_NOTE:
        raise ServiceError(_("At most %(n)d characters.", n=MAX_NOTE), field="note")
    if amount is None or amount < 0 or amount > MAX_MONEY:
        raise ServiceError(_("Enter an amount of zero or more."), field="amount")
    run = latest_run(session)
    if run is None:
        raise ServiceError(_("There is no forecast to adjust yet."))
    if month is not None:
        month = date(month.year, month.month, 1)
        horizon = run.settings.get("horizon", 12)
        last = _add_months(run.first_month, horizon - 1)
        if not run.first_month <= month <= last:
            raise ServiceError(_("Choose one of the forecast months."), field="month")
    now = utc_now()
    for old in active_adjustments(session, partner.id):
        if old.month == month:
            old.cleared_at, old.cleared_by_id = now, actor.user_id
    adjustment = ForecastAdjustment(partner_id=partner.id, run_id=run.id, month=month,
                                    amount=to_money(amount), note=note, created_by_id=actor.user_id,
                                    created_at=now, idempotency_key=key, request_hash=fingerprint)
    session.add(adjustment)
    session.flush()
    audit.record(session, "forecast_adjusted", actor_id=actor.user_id, target=adjustment,
                 partner_id=partner.id, month=month.isoformat() if month else None,
                 amount=str(adjustment.amount), run_id=run.id)
    session.commit()
    return adjustment, True


def clear_adjustment(session: Session, actor: Actor, partner_id: int, adjustment_id: int
                     ) -> ForecastAdjustment:
    """Clear an adjustment in effect: the statistical forecast stands again (audited)."""
    partner = _staff_partner(session, actor, partner_id)
    adjustment = session.get(ForecastAdjustment, adjustment_id)
    if adjustment is None or adjustment.partner_id != partner.id:
        raise NotFound("Not found.")
    if adjustment.cleared_at is not None:
        raise ServiceError(_("This adjustment was cleared already."))
    adjustment.cleared_at, adjustment.cleared_by_id = utc_now(), actor.user_id
    audit.record(session, "forecast_adjustment_cleared", actor_id=actor.user_id, target=adjustment,
                 partner_id=partner.id)
    session.commit()
    return adjustment


def _add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def in_effect(adjustments: list[ForecastAdjustment], moment: datetime) -> list[ForecastAdjustment]:
    """The adjustments that were in effect at a moment (made before, not yet cleared)."""
    return [a for a in adjustments if a.created_at <= moment
            and (a.cleared_at is None or a.cleared_at > moment)]
