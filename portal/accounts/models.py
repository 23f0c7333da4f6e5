"""Partners (retail companies), the price tiers they buy at, the people who sign in for them
or for the wholesaler, and their sessions, invitations and API tokens."""
from __future__ import annotations

import secrets
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from portal.core.money import ZERO
from portal.core.text import company_key
from portal.core.types import Money, UTCDateTime, utc_now
from portal.db import Base

PARTNER_ROLES = ("buyer", "partner_admin")
STAFF_ROLES = ("account_manager", "admin")
ROLES = PARTNER_ROLES + STAFF_ROLES


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(f"role IN {ROLES}", name="role"),
        CheckConstraint(
            f"(role IN {PARTNER_ROLES} AND partner_id IS NOT NULL)"
            f" OR (role IN {STAFF_ROLES} AND partner_id IS NULL)",
            name="partner_matches_role",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased: that is what makes the unique index case-insensitive.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20))
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), index=True
    )
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str] = mapped_column(String(10), default="en")
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)

    partner: Mapped[Partner | None] = relationship(foreign_keys=[partner_id])

    # Flask-Login integration: the login id is the server-side session token (set per request).
    session_token = None  # a plain attribute, not a column

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str | None:
        return self.session_token


class UserSession(Base):
    """One row per sign-in; the cookie carries its token, so revoking the row signs out."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(300))

    user: Mapped[User] = relationship()


class Invitation(Base):
    """A single-use, expiring invitation for a new user of a partner company."""

    __tablename__ = "invitations"
    __table_args__ = (CheckConstraint(f"role IN {PARTNER_ROLES}", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20), default="buyer")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    partner: Mapped[Partner] = relationship()
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])


class ApiToken(Base):
    """A bearer token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class PasswordReset(Base):
    """A forgotten-password link: single use, expiring; only the token's SHA-256 is stored.

    A new request for the same user revokes the earlier open ones, so only the latest link works.
    """

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ip: Mapped[str | None] = mapped_column(String(45))

    user: Mapped[User] = relationship()


PARTNER_STATUSES = ("active", "paused", "churned")
STAGES = ("prospect", "customer", "client", "supporter", "advocate", "partner")
CHANNELS = ("email", "phone", "visit", "none")


def new_referral_code() -> str:
    return secrets.token_urlsafe(6).replace("-", "x").replace("_", "y").lower()


class PriceTier(Base):
    __tablename__ = "price_tiers"
    __table_args__ = (
        CheckConstraint("discount_percent >= 0 AND discount_percent <= 100", name="discount_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    discount_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class Partner(Base):
    __tablename__ = "partners"
    __table_args__ = (
        CheckConstraint(f"status IN {PARTNER_STATUSES}", name="status"),
        CheckConstraint(f"stage IN {STAGES}", name="stage"),
        CheckConstraint(f"preferred_channel IN {CHANNELS}", name="channel"),
        CheckConstraint("contact_every_days IS NULL OR contact_every_days > 0", name="contact"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # The name as referrals compare company names (core.text.company_key), kept with the name
    # (``_key_name``) and indexed: duplicate detection finds a partner by name in one lookup.
    name_key: Mapped[str] = mapped_column(String(200), default="", server_default="", index=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="active")
    price_tier_id: Mapped[int | None] = mapped_column(ForeignKey("price_tiers.id"), index=True)
    account_manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", use_alter=True, ondelete="SET NULL"), index=True
    )
    stage: Mapped[str] = mapped_column(String(20), default="customer")
    preferred_channel: Mapped[str] = mapped_column(String(10), default="email")
    contact_every_days: Mapped[int | None] = mapped_column(default=30)
    # Whom staff call or write to at the partner (kept by staff on the partner page).
    contact_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="", server_default="")
    referral_code: Mapped[str] = mapped_column(String(20), unique=True, default=new_referral_code)
    # The partner whose referral brought this one in (set when a referral is converted).
    referred_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("partners.id", ondelete="SET NULL"), index=True)
    # Every order ever stored for the partner (any source); bumped in the transaction that adds
    # one, so concurrent orders get distinct numbers (thank-you milestones) without a count(*).
    order_count: Mapped[int] = mapped_column(default=0, server_default="0")
    # What the partner's credits (referral rewards; portal.ordering.credits) have left to spend,
    # kept in the transactions that change them, so placing an order knows without a query
    # that there is none.
    credit_balance: Mapped[Decimal] = mapped_column(Money, default=ZERO, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)

    price_tier: Mapped[PriceTier | None] = relationship()
    account_manager: Mapped[User | None] = relationship(foreign_keys=[account_manager_id])

    @validates("name")
    def _key_name(self, _attribute: str, name: str) -> str:
        self.name_key = company_key(name or "")
        return name

    @property
    def is_active(self) -> bool:
        return self.status == "active"


class DeliveryAddress(Base):
    """Where a partner's goods go; at most one per partner is the default (checkout's choice).

    Orders keep a copy of the address they were delivered to (``Order.delivery_address``), so
    editing or removing one here changes no order.
    """

    __tablename__ = "delivery_addresses"
    __table_args__ = (
        Index("uq_delivery_addresses_default", "partner_id", unique=True,
              sqlite_where=text("is_default"), postgresql_where=text("is_default")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(80))          # "Main shop", "Warehouse"
    recipient: Mapped[str] = mapped_column(String(200))     # company or person receiving
    street: Mapped[str] = mapped_column(String(200))
    street2: Mapped[str] = mapped_column(String(200), default="")
    postal_code: Mapped[str] = mapped_column(String(20))
    city: Mapped[str] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(2), default="PL")  # ISO 3166-1 alpha-2
    phone: Mapped[str] = mapped_column(String(40), default="")
    is_default: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)
