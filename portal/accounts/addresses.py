"""A partner's delivery addresses: partner admins and staff manage them, orders copy one.

A partner admin manages their own company's addresses; an account manager those of the partners
assigned to them; an admin every partner's. Buyers use them (checkout picks one) but do not
change them. At most one address per partner is the default (a partial unique index); changes
to one partner's addresses lock the partner row, so two people setting a default at once get
one default, never an error.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, fields

from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from portal.accounts.models import DeliveryAddress, Partner
from portal.core import audit
from portal.core.access import Actor, may_see_partner
from portal.core.errors import AuthError, NotFound, ServiceError

MAX_ADDRESSES = 50
POSTAL_CODE_PL = re.compile(r"^\d{2}-\d{3}$")
COUNTRY = re.compile(r"^[A-Z]{2}$")
PHONE = re.compile(r"^[0-9 +()./-]*$")
SNAPSHOT_FIELDS = ("label", "recipient", "street", "street2", "postal_code", "city", "country", "phone")


@dataclass
class AddressData:
    label: str
    recipient: str
    street: str
    postal_code: str
    city: str
    street2: str = ""
    country: str = "PL"
    phone: str = ""


# field -> (longest, required)
_LIMITS = {"label": (80, True), "recipient": (200, True), "street": (200, True),
           "street2": (200, False), "postal_code": (20, True), "city": (100, True),
           "phone": (40, False)}


def has_control_characters(text: str) -> bool:
    """Whether text holds a control or format character (NUL, tabs, line breaks, bidi marks)."""
    return any(unicodedata.category(c).startswith("C") for c in text)


def check(data: AddressData) -> AddressData:
    """Normalised fields; ServiceError naming the first field that is wrong."""
    values = {f.name: (getattr(data, f.name) or "").strip() for f in fields(AddressData)}
    values["country"] = values["country"].upper() or "PL"
    values["postal_code"] = values["postal_code"].upper()
    if not COUNTRY.match(values["country"]):
        raise ServiceError(_("Enter the country as a two-letter code, such as PL or DE."), field="country")
    for name, (longest, required) in _LIMITS.items():
        value = values[name]
        if required and not value:
            raise ServiceError(_("This field is required."), field=name)
        if len(value) > longest:
            raise ServiceError(_("At most %(n)d characters.", n=longest), field=name)
        if has_control_characters(value):
            raise ServiceError(_("This field contains a character that is not allowed."), field=name)
    if values["country"] == "PL" and not POSTAL_CODE_PL.match(values["postal_code"]):
        raise ServiceError(_("A Polish postal code looks like 00-950."), field="postal_code")
    if not PHONE.match(values["phone"]):
        raise ServiceError(_("A phone number has digits, spaces and + ( ) - / . only."), field="phone")
    return AddressData(**values)


def snapshot(address: DeliveryAddress) -> dict:
    """The copy an order keeps: what the address said when the order was placed."""
    return {"id": address.id, **{name: getattr(address, name) for name in SNAPSHOT_FIELDS}}


def _partner_for_staff(session: Session, actor: Actor, partner_id: int) -> None:
    if session.get(Partner, partner_id) is None:
        raise NotFound(_("No such partner."))
    if not may_see_partner(session, actor, partner_id):
        raise NotFound(_("No such partner."), foreign=True)


def partner_for_staff(session: Session, actor: Actor, partner_id: int) -> Partner:
    """The partner whose addresses a staff member manages (NotFound unless they may see it)."""
    _partner_for_staff(session, actor, partner_id)
    return session.get(Partner, partner_id)


def _may_manage(session: Session, actor: Actor, partner_id: int) -> None:
    """Raise unless the actor may change this partner's addresses."""
    if actor.is_partner_user:
        if actor.partner_id != partner_id:
            raise NotFound(_("No such address."), foreign=True)
        if actor.role != "partner_admin":
            raise AuthError(_("Only your company's administrators can change delivery addresses."),
                            code="forbidden")
        return
    _partner_for_staff(session, actor, partner_id)


def list_for(session: Session, actor: Actor, partner_id: int) -> list[DeliveryAddress]:
    """A partner's addresses, the default first (a partner user: their own company's only)."""
    if actor.is_partner_user:
        if actor.partner_id != partner_id:
            raise NotFound(_("No such partner."), foreign=True)
    else:
        _partner_for_staff(session, actor, partner_id)
    return list(session.scalars(
        select(DeliveryAddress).where(DeliveryAddress.partner_id == partner_id)
        .order_by(DeliveryAddress.is_default.desc(), DeliveryAddress.label, DeliveryAddress.id)
    ))


def get(session: Session, actor: Actor, address_id: int, *, partner_id: int | None = None
        ) -> DeliveryAddress:
    """An address the actor may see (and, with ``partner_id``, of that partner); else NotFound."""
    address = session.get(DeliveryAddress, address_id)
    if address is None or (partner_id is not None and address.partner_id != partner_id):
        # Reached through another partner's URL: not found, and an attempt if it exists.
        raise NotFound(_("No such address."), field="address_id", foreign=address is not None)
    if not may_see_partner(session, actor, address.partner_id):
        raise NotFound(_("No such address."), field="address_id", foreign=True)
    return address


def _lock_partner(session: Session, partner_id: int) -> None:
    session.execute(select(Partner.id).where(Partner.id == partner_id).with_for_update())


def create(session: Session, actor: Actor, partner_id: int, data: AddressData, *,
           make_default: bool = False) -> DeliveryAddress:
    """Add a delivery address; a partner's first address is its default."""
    _may_manage(session, actor, partner_id)
    data = check(data)
    _lock_partner(session, partner_id)
    count = session.scalar(select(func.count(DeliveryAddress.id))
                           .where(DeliveryAddress.partner_id == partner_id)) or 0
    if count >= MAX_ADDRESSES:
        raise ServiceError(_("A company has at most %(n)d delivery addresses.", n=MAX_ADDRESSES))
    if make_default or count == 0:
        _clear_default(session, partner_id)
    address = DeliveryAddress(partner_id=partner_id, **vars(data), is_default=make_default or count == 0)
    session.add(address)
    session.flush()
    audit.record(session, "address_created", actor_id=actor.user_id, target=address,
                 partner_id=partner_id, label=address.label, default=address.is_default)
    session.commit()
    return address


def edit(session: Session, actor: Actor, address_id: int, data: AddressData, *,
         partner_id: int | None = None) -> DeliveryAddress:
    """Change an address (orders placed earlier keep their copy)."""
    address = get(session, actor, address_id, partner_id=partner_id)
    _may_manage(session, actor, address.partner_id)
    data = check(data)
    changes = {}
    for name, value in vars(data).items():
        if getattr(address, name) != value:
            changes[name] = [getattr(address, name), value]
            setattr(address, name, value)
    if changes:
        audit.record(session, "address_updated", actor_id=actor.user_id, target=address,
                     partner_id=address.partner_id, changes=changes)
    session.commit()
    return address


def _clear_default(session: Session, partner_id: int) -> None:
    session.execute(update(DeliveryAddress)
                    .where(DeliveryAddress.partner_id == partner_id, DeliveryAddress.is_default)
                    .values(is_default=False).execution_options(synchronize_session="fetch"))


def set_default(session: Session, actor: Actor, address_id: int, *, partner_id: int | None = None
                ) -> DeliveryAddress:
    """Make an address the one checkout preselects."""
    address = get(session, actor, address_id, partner_id=partner_id)
    _may_manage(session, actor, address.partner_id)
    _lock_partner(session, address.partner_id)
    session.refresh(address)
    if not address.is_default:
        _clear_default(session, address.partner_id)
        session.flush()
        address.is_default = True
        audit.record(session, "address_default_set", actor_id=actor.user_id, target=address,
                     partner_id=address.partner_id, label=address.label)
    session.commit()
    return address


def remove(session: Session, actor: Actor, address_id: int, *, partner_id: int | None = None) -> str:
    """Delete an address (orders keep their copy); the oldest other one becomes the default."""
    address = get(session, actor, address_id, partner_id=partner_id)
    _may_manage(session, actor, address.partner_id)
    _lock_partner(session, address.partner_id)
    owner, label, was_default = address.partner_id, address.label, address.is_default
    audit.record(session, "address_removed", actor_id=actor.user_id, target=address,
                 partner_id=owner, label=label)
    session.delete(address)
    session.flush()
    if was_default:
        successor = session.scalar(select(DeliveryAddress).where(DeliveryAddress.partner_id == owner)
                                   .order_by(DeliveryAddress.created_at, DeliveryAddress.id).limit(1))
        if successor is not None:
            successor.is_default = True
    session.commit()
    return label


_A = DeliveryAddress.__table__.c
_DEFAULT_COPY = (select(_A.id, *(_A[name] for name in SNAPSHOT_FIELDS))
                 .where(_A.partner_id == bindparam("partner"), _A.is_default))


def default_copies(session: Session, partner_ids) -> dict[int, dict]:
    """The copies ``for_order`` gives of several companies' default addresses, by partner id
    (none for a company without one): one query for a batch of orders (helper, no commit)."""
    ids = sorted(set(partner_ids))
    if not ids:
        return {}
    rows = session.execute(select(_A.partner_id, *_DEFAULT_COPY.selected_columns)
                           .where(_A.partner_id.in_(ids), _A.is_default))
    return {row.partner_id: {k: v for k, v in row._mapping.items() if k != "partner_id"} for row in rows}


def for_order(session: Session, actor: Actor, address_id: int | None) -> dict | None:
    """The copy of the address an order of the actor's company goes to (helper, no commit).

    The address asked for must be the company's own (else NotFound on ``address_id``); without
    one, the default address, or None when the company has none.
    """
    if address_id is None:  # on every API order: columns, not an ORM entity
        found = session.execute(_DEFAULT_COPY, {"partner": actor.partner_id}).first()
        return dict(found._mapping) if found is not None else None
    address = session.get(DeliveryAddress, address_id)
    if address is None or address.partner_id != actor.partner_id:
        raise NotFound(_("No such delivery address."), field="address_id", foreign=address is not None)
    return snapshot(address)
