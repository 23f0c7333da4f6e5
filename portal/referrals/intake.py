"""Taking a referral in: validation, duplicate detection and the once-only store.

``submit`` is the one use case behind the signed-in form, the public form behind a partner's
referral link and the API. The same form sent twice (its idempotency key) is one referral. A
prospect already known — an existing partner or an open referral with the same email, website
domain or normalised company name — is stored as ``duplicate`` with a link to what it matched,
so nothing a partner sends is lost, and the referrer is told kindly that the company is known.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

from flask_babel import gettext as _
from sqlalchemy import Integer, String, and_, bindparam, case, func, literal, or_, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.accounts.models import Partner, User
from portal.core import audit
from portal.core.errors import Conflict, ServiceError
from portal.core.text import company_key, normalize_email
from portal.notifications import outbox
from portal.referrals import scoring
from portal.referrals.models import OPEN_STATUSES, Referral, ReferralEvent

MAX_NAME, MAX_EMAIL, MAX_PHONE, MAX_WEBSITE, MAX_CITY, MAX_NOTE = 200, 254, 40, 300, 100, 2000
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_RE = re.compile(r"^\+?[0-9 ()./-]{6,40}$")
HOST_RE = re.compile(r"^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{1,62}$")
# Mailbox providers: a prospect writing from one says nothing about which company it is.
FREE_MAIL = frozenset({
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "yahoo.com",
    "icloud.com", "proton.me", "protonmail.com", "gmx.com", "gmx.net", "wp.pl", "o2.pl", "onet.pl",
    "op.pl", "interia.pl", "interia.eu", "poczta.fm", "tlen.pl", "vp.pl", "gazeta.pl", "int.pl",
})
@dataclass(frozen=True)
class ReferralData:
    company_name: str
    contact_name: str
    email: str
    consent: bool
    phone: str = ""
    website: str = ""
    city: str = ""
    note: str = ""
    referrer_name: str = ""  # the public form asks who recommends


def website_host(website: str) -> str:
    """The host of a website as typed ("https://www.Example.pl/shop" → "example.pl"); "" if none.

    Raises ServiceError for something that is not a web address.
    """
    text = website.strip()
    if not text:
        return ""
    try:  # urlsplit itself refuses some text ("http://[::1", NFKC-changing characters)
        parts = urlsplit(text if "//" in text else "//" + text)
        scheme = parts.scheme
        host = (parts.hostname or "").encode("idna").decode("ascii").lower()
    except (UnicodeError, ValueError):
        scheme, host = "", ""
    if scheme not in ("", "http", "https"):
        raise ServiceError(_("Enter the website as an address such as www.example.pl."), field="website")
    host = host.removeprefix("www.")
    if not HOST_RE.match(host):
        raise ServiceError(_("Enter the website as an address such as www.example.pl."), field="website")
    return host


def company_domain(email_key: str, website: str) -> str:
    """The domain that identifies the company: its website's, else its email's unless free mail."""
    host = website_host(website)
    if host:
        return host
    domain = email_key.rpartition("@")[2]
    # only a real host name (never "%" or "_", which a LIKE would read as wildcards)
    return "" if domain in FREE_MAIL or not HOST_RE.match(domain) else domain


def check(data: ReferralData) -> ReferralData:
    """The data trimmed, or a ServiceError naming the field (the API's and the forms' rules)."""
    values = {key: (value.replace("\x00", "").strip() if isinstance(value, str) else value)
              for key, value in asdict(data).items()}
    clean = ReferralData(**values)
    limits = (("company_name", MAX_NAME), ("contact_name", MAX_NAME), ("email", MAX_EMAIL),
              ("phone", MAX_PHONE), ("website", MAX_WEBSITE), ("city", MAX_CITY), ("note", MAX_NOTE),
              ("referrer_name", MAX_NAME))
    for name, limit in limits:
        if len(getattr(clean, name)) > limit:
            raise ServiceError(_("At most %(count)d characters.", count=limit), field=name)
    if not clean.company_name or not company_key(clean.company_name):
        raise ServiceError(_("Enter the company's name."), field="company_name")
    if not clean.contact_name:
        raise ServiceError(_("Enter the name of the person to contact."), field="contact_name")
    if not EMAIL_RE.match(clean.email):
        raise ServiceError(_("Enter an email address such as name@example.pl."), field="email")
    if clean.phone and not PHONE_RE.match(clean.phone):
        raise ServiceError(_("A phone number has digits, spaces and + ( ) - . / only."), field="phone")
    website_host(clean.website)
    if clean.consent is not True:
        raise ServiceError(_("We contact only companies that agreed to it: tick the box once they "
                             "have."), field="consent")
    return clean


@dataclass(frozen=True)
class Match:
    reason: str  # email, domain or name
    referral_id: int | None = None
    partner_id: int | None = None


def _lookup_statement():
    """What is already known of a prospect and its referrer, in one statement built once: the
    referral this form's key already stored (rank 0), else the partner the prospect is (by a
    user's or the contact's email, a user's email domain, the company name: ranks 1-4), else
    the earliest open referral of it (rank 5), else nothing (rank 9); and how many of the
    referrer's referrals became partners (the lead score's history)."""
    email, domain, company = bindparam("email"), bindparam("domain"), bindparam("company")
    referrer, key = bindparam("referrer_id"), bindparam("key")
    none = literal(None, Integer)
    has_domain = domain != ""  # emails are stored lower-cased (normalize_email)
    matches = union_all(
        select(literal("key").label("reason"), none.label("partner_id"), Referral.id.label("referral_id"),
               literal(0).label("rank")).where(Referral.referrer_id == referrer, Referral.idempotency_key == key),
        select(literal("email"), User.partner_id, none, literal(1))
        .where(User.email == email, User.partner_id.is_not(None)),
        select(literal("email"), Partner.id, none, literal(2)).where(func.lower(Partner.contact_email) == email),
        select(literal("domain"), User.partner_id, none, literal(3)).where(
            has_domain, User.partner_id.is_not(None), User.email.like(literal("%@").concat(domain))),
        # partners.name_key is the partner's company_key, kept with its name (accounts.models).
        select(literal("name"), Partner.id, none, literal(4)).where(Partner.name_key == company),
        select(case((Referral.email_key == email, "email"),
                    (and_(has_domain, Referral.domain == domain), "domain"), else_="name"),
               none, Referral.id, literal(5))
        .where(Referral.status.in_(OPEN_STATUSES), or_(
            Referral.email_key == email, Referral.company_key == company,
            and_(has_domain, Referral.domain == domain))),
        select(literal(None, String), none, none, literal(9)),
    ).subquery()
    converted = (select(func.count()).select_from(Referral)
                 .where(Referral.referrer_id == referrer, Referral.status == "converted")
                 .correlate(None).scalar_subquery())
    return (select(matches.c.reason, matches.c.partner_id, matches.c.referral_id, converted.label("converted"))
            .order_by(matches.c.rank, matches.c.referral_id, matches.c.partner_id).limit(1))


_LOOKUP = _lookup_statement()


def look_up(session: Session, *, referrer_id: int, key: str, company: str, email: str,
            domain: str) -> tuple[Match | None, int | None, int]:
    """(the partner or open referral this prospect already is, or None; the referral this key
    already stored, or None; the referrer's converted referrals) in one round trip."""
    row = session.execute(_LOOKUP, {"referrer_id": referrer_id, "key": key, "company": company,
                                    "email": email, "domain": domain}).one()
    if row.reason == "key":
        return None, row.referral_id, row.converted
    if row.reason is None:
        return None, None, row.converted
    return Match(row.reason, referral_id=row.referral_id, partner_id=row.partner_id), None, row.converted


def _fingerprint(data: ReferralData) -> str:
    return hashlib.sha256(json.dumps(asdict(data), sort_keys=True).encode()).hexdigest()


def _by_key(session: Session, referrer_id: int, key: str) -> Referral | None:
    return session.scalar(select(Referral).where(
        Referral.referrer_id == referrer_id, Referral.idempotency_key == key))


def _same(existing: Referral, fingerprint: str) -> Referral:
    if existing.request_hash != fingerprint:
        raise Conflict(_("This idempotency key was already used for a different referral. "
                         "Use a new key for a new one."), code="idempotency_key_reused")
    return existing


def _lock_statement(count: int):
    # One statement; a row's columns are evaluated left to right, so the locks come in order.
    return select(*(func.pg_advisory_xact_lock(func.hashtextextended(bindparam(f"k{n}"), 0))
                    for n in range(count)))


_LOCKS = {count: _lock_statement(count) for count in (1, 2, 3)}  # built once: name, email, domain


def _lock(session: Session, *keys: str) -> None:
    """PostgreSQL: hold a transaction lock per duplicate key (name, email, domain), so two
    referrals of one company sent at the same moment (different forms, different keys) are
    checked one after the other and the second is found a duplicate of the first. Locks are
    taken in one order, so two submissions never wait on each other in a circle."""
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite runs one writer at a time
    names = sorted({f"referral:{k}" for k in keys if k})
    session.execute(_LOCKS[len(names)], {f"k{n}": name for n, name in enumerate(names)})


def submit(session: Session, referrer: Partner, data: ReferralData, *, key: str, source: str,
           submitted_by_id: int | None = None) -> tuple[Referral, bool]:
    """Store a referral once per key (commits); (the referral, whether it is new)."""
    data = check(data)
    fingerprint = _fingerprint(data)
    email, company = normalize_email(data.email), company_key(data.company_name)
    domain = company_domain(email, data.website)
    # The locks first, in a statement of their own: the lookup's snapshot must begin after them.
    _lock(session, company, email, domain)
    known, stored_id, converted = look_up(session, referrer_id=referrer.id, key=key, company=company,
                                          email=email, domain=domain)
    if stored_id is not None:  # the same form again (a double click, a resubmitted page)
        return _same(session.get(Referral, stored_id), fingerprint), False
    referral = Referral(
        referrer_id=referrer.id, submitted_by_id=submitted_by_id, source=source,
        referrer_name=data.referrer_name, company_name=data.company_name, contact_name=data.contact_name,
        email=data.email, phone=data.phone, website=data.website, city=data.city, note=data.note,
        consent=True, company_key=company, email_key=email, domain=domain,
        status="duplicate" if known else "submitted",
        duplicate_of_id=known.referral_id if known else None,
        duplicate_of_partner_id=known.partner_id if known else None,
        duplicate_reason=known.reason if known else "",
        manager_id=referrer.account_manager_id, idempotency_key=key, request_hash=fingerprint)
    referral.events.append(ReferralEvent(actor_id=submitted_by_id, to_status=referral.status))
    with session.no_autoflush:
        scoring.rescore(session, referral, converted=converted)
    session.add(referral)
    try:
        session.flush()
    except IntegrityError:  # the same form at the same moment: the twin won
        session.rollback()
        existing = _by_key(session, referrer.id, key)
        if existing is None:
            raise
        return _same(existing, fingerprint), False
    audit.record(session, "referral_submitted", actor_id=submitted_by_id, target=referral,
                 partner_id=referrer.id, source=source, status=referral.status)
    if referral.status == "submitted" and referrer.account_manager_id is not None:
        outbox.queue(session, partner_id=referrer.id, kind="referral_received",
                     subject_key=f"referral:{referral.id}", channel="phone",
                     payload={"referral_id": referral.id, "partner_name": referrer.name,
                              "company": data.company_name})
    session.commit()
    return referral, True
