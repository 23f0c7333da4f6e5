"""Who may see what: the acting Actor, partner scoping, row ownership and sign-in eligibility.

The one place these rules live. A partner user sees their own partner; an account manager the
partners assigned to them; an admin all of them. A missing row and a row the actor may not see
raise the same ``NotFound`` (the second marked ``foreign``), which the web layer answers with the
same 404 and audits (OWASP ASVS 8.4.1). No Flask here: jobs and the CLI use these rules too.

The rules read the ``partners`` table through a lightweight Core ``table()`` rather than the
accounts model, so ``core`` imports no feature (import-linter checks it).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from sqlalchemy import ColumnElement, Select, column, select, table
from sqlalchemy.orm import Session

from portal.core.errors import NotFound

PARTNER_ROLES = ("buyer", "partner_admin")
STAFF_ROLES = ("account_manager", "admin")

_partners = table("partners", column("id"), column("account_manager_id"), column("status"))

T = TypeVar("T")


class _UserLike(Protocol):
    id: int
    role: str
    partner_id: int | None


@dataclass(frozen=True, slots=True)
class PartnerRef:
    """What a use case reads of the actor's company: who it is and which prices it pays."""

    id: int
    code: str
    name: str
    price_tier_id: int | None
    credit_balance: Decimal = Decimal("0")  # credit to spend at checkout (ordering.credits)


@dataclass(frozen=True, slots=True)
class Actor:
    """Whoever acts: a signed-in user (cookie or bearer token), or a job (``user_id`` None).

    Every use case takes one of these, whether the call comes from a page, the API, the CLI or a
    job; ``partner`` is set for partner users (loaded with the user, so no use case queries it).
    """

    user_id: int | None
    role: str
    partner_id: int | None = None
    ip: str | None = None
    partner: PartnerRef | None = None

    @classmethod
    def of(cls, user: _UserLike, ip: str | None = None) -> Actor:
        """The Actor for a User row or an API caller (anything with id, role, partner_id)."""
        company = getattr(user, "partner", None)
        ref = None
        if company is not None:
            ref = company if isinstance(company, PartnerRef) else PartnerRef(
                company.id, company.code, company.name, company.price_tier_id,
                getattr(company, "credit_balance", None) or Decimal("0"))
        return cls(user.id, user.role, user.partner_id, ip, ref)

    @classmethod
    def system(cls) -> Actor:
        """A background job or a CLI command: no user, sees everything."""
        return cls(None, "system")

    @property
    def is_partner_user(self) -> bool:
        return self.role in PARTNER_ROLES

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def sees_all(self) -> bool:
        return self.role in ("admin", "system")


SYSTEM = Actor.system()


def visible_partner_ids(actor: Actor) -> Select | None:
    """A subquery of the partner ids the actor may see; None when it sees every partner."""
    if actor.sees_all:
        return None
    if actor.role == "account_manager":
        return select(_partners.c.id).where(_partners.c.account_manager_id == actor.user_id)
    return select(_partners.c.id).where(_partners.c.id == actor.partner_id)


def partner_condition(actor: Actor, partner_id: ColumnElement[Any]) -> ColumnElement[bool] | None:
    """The WHERE condition that keeps rows of visible partners (None: no restriction)."""
    if actor.sees_all:
        return None
    if actor.is_partner_user:
        return partner_id == actor.partner_id  # no subquery on the partner's own hot paths
    return partner_id.in_(visible_partner_ids(actor).scalar_subquery())


def scope(stmt: Select, actor: Actor, partner_id: ColumnElement[Any]) -> Select:
    """Restrict a query to the rows of partners the actor may see (``partner_id``: the column)."""
    condition = partner_condition(actor, partner_id)
    return stmt if condition is None else stmt.where(condition)


def may_see_partner(session: Session, actor: Actor, partner_id: int | None) -> bool:
    """Whether the actor may see this partner's data."""
    if partner_id is None:
        return False
    if actor.sees_all:
        return True
    if actor.is_partner_user:
        return actor.partner_id == partner_id
    if actor.role == "account_manager":
        manager = session.execute(
            select(_partners.c.account_manager_id).where(_partners.c.id == partner_id)
        ).scalar()
        return manager is not None and manager == actor.user_id
    return False


def get_visible(session: Session, actor: Actor, model: type[T], row_id: int, *,
                partner_of=None, message: str = "Not found.") -> T:
    """Load a row the actor may see, else ``NotFound`` (``foreign`` when it exists).

    ``partner_of(row)`` gives the row's partner id; by default its ``partner_id`` attribute.
    """
    row = session.get(model, row_id)
    if row is None:
        raise NotFound(message)
    partner_id = partner_of(row) if partner_of is not None else getattr(row, "partner_id", None)
    if not may_see_partner(session, actor, partner_id):
        raise NotFound(message, foreign=True)
    return row


def may_sign_in(*, user_active: bool, partner_status: str | None) -> str | None:
    """Why a user may not sign in or use a token (``None``: they may).

    Staff have no partner (``partner_status`` None); partner users need an active partner.
    """
    if not user_active:
        return "user_inactive"
    if partner_status is not None and partner_status != "active":
        return "partner_inactive"
    return None
