"""A partner's standing-order settings: how many days before a date a review draft appears, and
how many days before a date the reminder goes out. No row means the defaults."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.core import audit
from portal.core.access import Actor
from portal.core.errors import ServiceError
from portal.recurring.models import LEAD_DAYS, REMINDER_DAYS, RecurringSettings

DEFAULT_LEAD_DAYS = 3
DEFAULT_REMINDER_DAYS = 2


@dataclass(frozen=True)
class Settings:
    review_lead_days: int = DEFAULT_LEAD_DAYS
    reminder_days: int = DEFAULT_REMINDER_DAYS


DEFAULTS = Settings()


def _of(row: RecurringSettings | None) -> Settings:
    return DEFAULTS if row is None else Settings(row.review_lead_days, row.reminder_days)


def for_partner(session: Session, partner_id: int) -> Settings:
    return _of(session.get(RecurringSettings, partner_id))


def for_partners(session: Session, partner_ids: Iterable[int]) -> dict[int, Settings]:
    """Every partner's settings in one query (partners without a row get the defaults)."""
    ids = set(partner_ids)
    found = {row.partner_id: _of(row) for row in session.scalars(
        select(RecurringSettings).where(RecurringSettings.partner_id.in_(ids)))} if ids else {}
    return {pid: found.get(pid, DEFAULTS) for pid in ids}


def _check(value: int, bounds: tuple[int, int], field: str) -> None:
    low, high = bounds
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ServiceError(_("Choose a number of days from %(low)d to %(high)d.", low=low, high=high),
                           field=field)


def update(session: Session, actor: Actor, *, review_lead_days: int, reminder_days: int) -> Settings:
    """Change the actor's company's settings (partner admins only); audited."""
    if actor.partner_id is None or actor.role != "partner_admin":
        raise ServiceError(_("Only your company's administrators change these settings."), code="forbidden")
    _check(review_lead_days, LEAD_DAYS, "review_lead_days")
    _check(reminder_days, REMINDER_DAYS, "reminder_days")
    row = session.get(RecurringSettings, actor.partner_id)
    before = _of(row)
    if row is None:
        row = RecurringSettings(partner_id=actor.partner_id)
        session.add(row)
    row.review_lead_days, row.reminder_days, row.updated_by_id = review_lead_days, reminder_days, actor.user_id
    after = Settings(review_lead_days, reminder_days)
    changes = {name: [getattr(before, name), getattr(after, name)] for name in ("review_lead_days", "reminder_days")
               if getattr(before, name) != getattr(after, name)}
    session.flush()
    audit.record(session, "recurring_settings_changed", actor_id=actor.user_id, target=row,
                 partner_id=actor.partner_id, changes=changes)
    session.commit()
    return after
