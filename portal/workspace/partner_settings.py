"""What staff change on a partner's page, and who may change what.

An admin changes everything here. The partner's account manager changes how and how often they
keep in touch (preferred channel, contact frequency) and whom they talk to (the contact person),
which is their own work; the price tier (what the partner pays) and the account manager (whose
portfolio it is) are the wholesaler's decisions, so only an admin changes those. Every change is
audited with the values before and after.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import CHANNELS, Partner, PriceTier, User
from portal.core import access, audit
from portal.core.access import Actor
from portal.core.errors import ServiceError
from portal.core.text import normalize_email

MAX_CONTACT_DAYS = 365
ADMIN_ONLY = ("price_tier_id", "account_manager_id")
CONTACT_FIELDS = ("preferred_channel", "contact_every_days", "contact_name", "contact_email", "contact_phone")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_RE = re.compile(r"^\+?[0-9 ()./-]{3,40}$")


class NotAllowed(ServiceError):
    """The user may see the partner but not change this (a manager and the price tier)."""


def editable_fields(actor: Actor) -> tuple[str, ...]:
    """The partner settings this user may change."""
    if actor.role == "admin":
        return ADMIN_ONLY + CONTACT_FIELDS
    if actor.role == "account_manager":
        return CONTACT_FIELDS
    return ()


@dataclass(frozen=True)
class Choice:
    id: int
    name: str


def tier_choices(session: Session) -> list[Choice]:
    """The price tiers a partner can buy at, by name."""
    return [Choice(*row) for row in session.execute(select(PriceTier.id, PriceTier.name).order_by(PriceTier.name))]


def manager_choices(session: Session) -> list[Choice]:
    """The active account managers a partner can be given to."""
    return [Choice(uid, name or email) for uid, name, email in session.execute(
        select(User.id, User.name, User.email).where(User.role == "account_manager", User.active.is_(True))
        .order_by(User.name, User.email))]


def _describe(session: Session, name: str, value):
    """How a value reads in the audit trail: tiers and managers by name, not id."""
    if value is None:
        return None
    if name == "price_tier_id":
        return session.scalar(select(PriceTier.name).where(PriceTier.id == value))
    if name == "account_manager_id":
        return session.scalar(select(User.email).where(User.id == value))
    return value


def _clean(session: Session, changes: dict) -> dict:
    values = {}
    for name, value in changes.items():
        if isinstance(value, str):
            value = value.replace("\x00", "").strip()
        if name == "preferred_channel" and value not in CHANNELS:
            raise ServiceError(_("Choose one of the channels."), field=name)
        if name == "contact_every_days" and value is not None and not 1 <= value <= MAX_CONTACT_DAYS:
            raise ServiceError(_("Enter a number of days from 1 to %(max)d, or leave it empty.",
                                 max=MAX_CONTACT_DAYS), field=name)
        if name == "contact_email" and value:
            value = normalize_email(value)
            if not EMAIL_RE.match(value) or len(value) > 254:
                raise ServiceError(_("Enter a valid email address."), field=name)
        if name == "contact_phone" and value and not PHONE_RE.match(value):
            raise ServiceError(_("Enter a phone number of digits, spaces and + ( ) - only."), field=name)
        if name == "contact_name" and len(value) > 200:
            raise ServiceError(_("The contact person's name is longer than %(n)d characters.", n=200), field=name)
        if name == "price_tier_id" and value is not None and session.get(PriceTier, value) is None:
            raise ServiceError(_("Choose one of the price tiers."), field=name)
        if name == "account_manager_id" and value is not None:
            manager = session.get(User, value)
            if manager is None or manager.role != "account_manager" or not manager.active:
                raise ServiceError(_("Choose an active account manager."), field=name)
        values[name] = value
    return values


def update_partner(session: Session, actor: Actor, partner_id: int, changes: dict) -> dict[str, dict]:
    """Change a partner's settings the user may change; returns what changed (audited as
    ``partner_updated`` with before and after). ``NotFound`` for a partner the user does not
    look after, ``NotAllowed`` for a setting they may not change."""
    partner = access.get_visible(session, actor, Partner, partner_id, partner_of=lambda p: p.id)
    allowed = editable_fields(actor)
    refused = [name for name in changes if name not in allowed]
    if refused:
        raise NotAllowed(_("Only an administrator can change the price tier or the account manager."),
                         field=refused[0])
    values = _clean(session, changes)
    before = {name: getattr(partner, name) for name in values if getattr(partner, name) != values[name]}
    if not before:
        return {}
    diff = {name: {"before": _describe(session, name, old), "after": _describe(session, name, values[name])}
            for name, old in before.items()}
    for name in before:
        setattr(partner, name, values[name])
    audit.record(session, "partner_updated", actor_id=actor.user_id, target=partner, partner_id=partner.id,
                 changes=diff)
    session.commit()
    return diff
