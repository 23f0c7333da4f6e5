"""Converting a referral: the new partner, linked to its referral and to the partner who referred it.

The referral is claimed with a conditional UPDATE (``status`` still open → ``converted``) in
the same transaction as the new partner, so two managers converting at once make one partner:
the second waits for the first's row lock on PostgreSQL, then finds nothing left to claim.
The new partner is pre-filled from the referral (name, contact person, email, phone), gets the
referral's account manager, and ``referred_by`` the referrer. Its first user can be invited in
the same step (a separate transaction: if the invitation is refused, the partner stands and
the reason is shown). The referrer is told through the outbox, by its preferred channel.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import update

from portal.accounts import invitations, people
from portal.accounts.models import Partner
from portal.core import audit
from portal.core.access import Actor
from portal.core.errors import Conflict, ServiceError
from portal.core.labels import label
from portal.core.types import utc_now
from portal.notifications import outbox
from portal.referrals import pipeline, rewards
from portal.referrals.models import OPEN_STATUSES, Referral, ReferralEvent


@dataclass(frozen=True)
class NewPartner:
    name: str
    code: str
    invite_email: str = ""  # "" : invite nobody yet
    invite_name: str = ""


@dataclass(frozen=True)
class Converted:
    partner: Partner
    invited: str  # the email invited, "" when nobody was
    invitation_error: str = ""


def convert(session, actor: Actor, referral_id: int, new: NewPartner, *,
            link_for: Callable[[str], str] | None = None, queue_email=None, locale: str = "en") -> Converted:
    """Make the referral's company a partner (commits); invite its first user if asked."""
    referral = pipeline.get(session, actor, referral_id)
    if referral.status not in OPEN_STATUSES:
        raise Conflict(_("Only an open referral can become a partner; this one is %(status)s.",
                         status=label(referral.status)), code="not_open")
    claimed = session.execute(
        update(Referral).where(Referral.id == referral.id, Referral.status.in_(OPEN_STATUSES))
        .values(status="converted", converted_at=utc_now()).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:  # someone converted (or closed) it a moment ago
        session.rollback()
        raise Conflict(_("This referral was just changed by someone else. Reload the page."), code="not_open")
    previous = referral.status
    try:
        partner = people.create_partner(session, name=new.name, code=new.code, actor=actor, commit=False)
    except ServiceError:
        session.rollback()  # the referral stays open
        raise
    partner.referred_by_id = referral.referrer_id
    partner.account_manager_id = referral.manager_id or (actor.user_id if actor.role == "account_manager" else None)
    partner.contact_name, partner.contact_email = referral.contact_name, referral.email_key
    partner.contact_phone = referral.phone
    partner.stage = "prospect"  # no order yet: the ladder's first rung
    referral.converted_partner_id = partner.id
    session.add(ReferralEvent(referral_id=referral.id, actor_id=actor.user_id, from_status=previous,
                              to_status="converted", note=partner.name))
    audit.record(session, "referral_converted", actor_id=actor.user_id, target=referral,
                 partner_id=referral.referrer_id, new_partner_id=partner.id)
    rewards.promise(session, referral)
    outbox.queue(session, partner_id=referral.referrer_id, kind="referral_converted",
                 subject_key=f"referral:{referral.id}:converted",
                 payload={"company": partner.name, "referral_id": referral.id,
                          "partner_name": referral.referrer.name})
    session.commit()
    session.refresh(referral)
    invited, error = "", ""
    if new.invite_email.strip() and link_for is not None and queue_email is not None:
        try:
            invitations.invite_user(session, actor, email=new.invite_email, name=new.invite_name,
                                    role="partner_admin", link_for=link_for, queue_email=queue_email,
                                    locale=locale, partner_id=partner.id)
            invited = new.invite_email.strip()
        except ServiceError as err:
            session.rollback()
            error = str(err)
    return Converted(partner, invited, error)
