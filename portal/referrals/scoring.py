"""The lead score: 0-100 points for how promising a referral is, with the reasons shown.

An explainable points model, computed when a referral is saved or changed (never on a page
view), so staff see *why* a lead ranks where it does:

=========================================  ======
complete contact data: a phone number        +15
a company website                            +15
a company email domain (not free mail)       +10
a city or region                              +5
a note of at least 40 characters              +5
sent by a signed-in partner user             +10
each earlier referral of the referrer that
became a partner (at most three)             +10
start                                         20
=========================================  ======

A duplicate scores 0 (there is nothing to win). Once enough referrals are closed, a logistic
regression on these same features can replace the hand-set points (ROADMAP); the reasons list
keeps the page the same.
"""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.referrals.models import Referral

BASE = 20
POINTS = {"phone": 15, "website": 15, "company_email": 10, "city": 5, "note": 5, "signed_in": 10,
          "referrer_converted": 10}
MAX_CONVERTED_COUNTED = 3
MIN_NOTE = 40


def score(session: Session, referral: Referral, *, converted: int | None = None) -> tuple[int, list[list]]:
    """The referral's score and its reasons as [code, points] pairs (codes are labelled on pages).

    ``converted``: how many of the referrer's other referrals became partners, when the caller
    has already read it (intake's lookup); otherwise it is counted here."""
    if referral.status == "duplicate":
        return 0, [["duplicate", 0]]
    reasons: list[list] = [["base", BASE]]
    if referral.phone:
        reasons.append(["phone", POINTS["phone"]])
    if referral.website:
        reasons.append(["website", POINTS["website"]])
    if referral.domain and referral.email_key.endswith("@" + referral.domain):
        reasons.append(["company_email", POINTS["company_email"]])
    if referral.city:
        reasons.append(["city", POINTS["city"]])
    if len(referral.note) >= MIN_NOTE:
        reasons.append(["note", POINTS["note"]])
    if referral.submitted_by_id is not None:
        reasons.append(["signed_in", POINTS["signed_in"]])
    if converted is None:
        earlier = select(func.count()).select_from(Referral).where(
            Referral.referrer_id == referral.referrer_id, Referral.status == "converted")
        if referral.id is not None:
            earlier = earlier.where(Referral.id != referral.id)
        converted = session.scalar(earlier) or 0
    if converted:
        reasons.append(["referrer_converted", POINTS["referrer_converted"] * min(converted, MAX_CONVERTED_COUNTED)])
    return max(0, min(100, sum(points for _code, points in reasons))), reasons


def rescore(session: Session, referral: Referral, *, converted: int | None = None) -> None:
    """Store the referral's score (helper, no commit)."""
    referral.score, referral.score_reasons = score(session, referral, converted=converted)
