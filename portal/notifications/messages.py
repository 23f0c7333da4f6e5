"""What each kind of notification says: an email's subject and body, or a manager's task title."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask_babel import format_date, format_datetime, ngettext
from flask_babel import gettext as _

from portal.web.formatting import money


@dataclass(frozen=True)
class Template:
    subject: Callable[[dict[str, Any]], str]
    body: Callable[[dict[str, Any]], str]
    task: Callable[[dict[str, Any]], str]  # the title of an account manager's follow-up
    secret: tuple[str, ...] = ()  # payload fields dropped once delivered (a one-time link)


def _when(p: dict[str, Any]) -> str:
    """The payload's ``expires_at`` in the wholesaler's time zone, as the reader's locale writes it."""
    try:
        return format_datetime(datetime.fromisoformat(p["expires_at"]), "short")
    except (KeyError, TypeError, ValueError):
        return ""


def _day(p: dict[str, Any]) -> str:
    """The payload's ``occurrence_date`` as the reader's locale writes a date (31 marca 2027)."""
    try:
        return format_date(date.fromisoformat(p["occurrence_date"]), "long")
    except (KeyError, TypeError, ValueError):
        return str(p.get("occurrence_date", ""))


def _amount(p: dict[str, Any]) -> str:
    """The payload's ``amount`` as the reader's locale writes money (200,00 zł)."""
    try:
        return money(Decimal(p["amount"]))
    except (KeyError, TypeError, ArithmeticError):
        return str(p.get("amount", ""))


def _no_task(_p: dict[str, Any]) -> str:
    return ""  # account emails are always emails (outbox.queue_email), never a manager's call


TEMPLATES: dict[str, Template] = {
    "thank_you_first_order": Template(
        subject=lambda p: _("Thank you for your first order, %(partner)s!",
                            partner=p.get("partner_name", "")),
        body=lambda p: _(
            "Hello,\n\nthank you for placing your first order (no. %(order)s) with us. "
            "We are glad to have %(partner)s on board, and your account manager is there "
            "whenever you need anything.\n\nKind regards,\nThe Trellis team",
            order=p.get("order_id", ""), partner=p.get("partner_name", "")),
        task=lambda p: _("Thank %(partner)s for their first order (no. %(order)s)",
                         partner=p.get("partner_name", ""), order=p.get("order_id", "")),
    ),
    "thank_you_order_milestone": Template(
        subject=lambda p: _("%(partner)s: thank you for %(count)s orders!",
                            partner=p.get("partner_name", ""), count=p.get("order_count", "")),
        body=lambda p: _(
            "Hello,\n\norder no. %(order)s was your order number %(count)s with us. "
            "Thank you for your trust and for ordering through the portal.\n\n"
            "Kind regards,\nThe Trellis team",
            order=p.get("order_id", ""), count=p.get("order_count", "")),
        task=lambda p: _("Thank %(partner)s for %(count)s orders (latest: no. %(order)s)",
                         partner=p.get("partner_name", ""), count=p.get("order_count", ""),
                         order=p.get("order_id", "")),
    ),
    "recurring_order_failed": Template(
        subject=lambda p: _("Standing order %(name)s: the order of %(date)s was not placed",
                            name=p.get("name", ""), date=p.get("occurrence_date", "")),
        body=lambda p: _(
            "Hello,\n\nyour standing order %(name)s could not place its order of %(date)s "
            "(%(reason)s). %(lines)s\nOpen the standing order in the portal to change it; "
            "your account manager has been told as well.\n\nKind regards,\nThe Trellis team",
            name=p.get("name", ""), date=p.get("occurrence_date", ""),
            reason=_recurring_reason(p.get("reason", "")), lines=_unavailable(p)),
        task=lambda p: _("Standing order %(name)s failed on %(date)s (%(reason)s): call the partner",
                         name=p.get("name", ""), date=p.get("occurrence_date", ""),
                         reason=_recurring_reason(p.get("reason", ""))),
    ),
    "referral_received": Template(  # always a task for the referrer's account manager
        subject=lambda p: _("New referral from %(partner)s: %(company)s",
                            partner=p.get("partner_name", ""), company=p.get("company", "")),
        body=lambda p: _("%(partner)s recommended %(company)s. Contact them from the referral's "
                         "page in the portal.", partner=p.get("partner_name", ""),
                         company=p.get("company", "")),
        task=lambda p: _("New referral from %(partner)s: contact %(company)s",
                         partner=p.get("partner_name", ""), company=p.get("company", "")),
    ),
    "referral_converted": Template(
        subject=lambda p: _("%(company)s, whom you recommended, is now a partner",
                            company=p.get("company", "")),
        body=lambda p: _(
            "Hello,\n\nthank you for recommending %(company)s: they have just become our partner. "
            "You can follow your referrals on the Referrals page of the portal.\n\n"
            "Kind regards,\nThe Trellis team", company=p.get("company", "")),
        task=lambda p: _("Tell %(partner)s that %(company)s, whom they recommended, is now a partner",
                         partner=p.get("partner_name", ""), company=p.get("company", "")),
    ),
    "referral_reward_granted": Template(
        subject=lambda p: _("Your reward for recommending %(company)s: %(amount)s off your next order",
                            company=p.get("company", ""), amount=_amount(p)),
        body=lambda p: _(
            "Hello,\n\n%(company)s, whom you recommended, now orders from us, so you have earned a "
            "credit of %(amount)s (net). It is taken off the net total of your next "
            "order automatically; what the order does not use stays for the one after.\n\n"
            "Kind regards,\nThe Trellis team", company=p.get("company", ""), amount=_amount(p)),
        task=lambda p: _("Tell %(partner)s about their referral reward of %(amount)s for %(company)s",
                         partner=p.get("partner_name", ""), amount=_amount(p),
                         company=p.get("company", "")),
    ),
    "recurring_order_partial": Template(
        subject=lambda p: _("Standing order %(name)s: some products were left out on %(date)s",
                            name=p.get("name", ""), date=p.get("occurrence_date", "")),
        body=lambda p: _(
            "Hello,\n\nyour standing order %(name)s placed its order of %(date)s without the "
            "products that are no longer sold. %(lines)s\nOpen the standing order in the portal to "
            "replace them.\n\nKind regards,\nThe Trellis team",
            name=p.get("name", ""), date=p.get("occurrence_date", ""), lines=_unavailable(p)),
        task=lambda p: _("Standing order %(name)s left products out on %(date)s: suggest replacements",
                         name=p.get("name", ""), date=p.get("occurrence_date", "")),
    ),
    "recurring_order_reminder": Template(
        subject=lambda p: _("Standing order %(name)s: next order on %(date)s",
                            name=p.get("name", ""), date=_day(p)),
        body=lambda p: _(
            "Hello,\n\nyour standing order %(name)s places its next order on %(date)s "
            "(%(products)s). %(review)s\n\nTo skip this date:\n%(skip)s\n\n"
            "To change the standing order:\n%(edit)s\n\nKind regards,\nThe Trellis team",
            name=p.get("name", ""), date=_day(p),
            products=ngettext("%(num)d product", "%(num)d products", int(p.get("products") or 0)),
            review=_("You can review and change that order in the portal before then.")
            if p.get("mode") == "review" else "",
            skip=p.get("skip_url", ""), edit=p.get("edit_url", "")),
        task=lambda p: _("Remind %(partner)s: standing order %(name)s places an order on %(date)s",
                         partner=p.get("partner_name", ""), name=p.get("name", ""), date=_day(p)),
    ),
    "recurring_draft_ready": Template(  # instead of the reminder for that date (recurring/reminders.py)
        subject=lambda p: _("Standing order %(name)s: review the order of %(date)s",
                            name=p.get("name", ""), date=_day(p)),
        body=lambda p: _(
            "Hello,\n\nthe order of %(date)s from your standing order %(name)s is ready for you to "
            "review (%(products)s). Change it or confirm it in the portal; left alone, it is placed on "
            "%(date)s as it stands.\n\nTo review or change it:\n%(review)s\n\nTo place it now:\n"
            "%(confirm)s\n\nTo skip this date:\n%(skip)s\n\nKind regards,\nThe Trellis team",
            name=p.get("name", ""), date=_day(p),
            products=ngettext("%(num)d product", "%(num)d products", int(p.get("products") or 0)),
            review=p.get("review_url", ""), confirm=p.get("confirm_url", ""), skip=p.get("skip_url", "")),
        task=lambda p: _("Tell %(partner)s: the order of %(date)s from standing order %(name)s is ready "
                         "to review", partner=p.get("partner_name", ""), name=p.get("name", ""), date=_day(p)),
    ),
    "password_reset": Template(
        subject=lambda p: _("Set a new password for Trellis"),
        body=lambda p: _(
            "Hello,\n\nsomeone (we hope you) asked to set a new password for your Trellis "
            "account. Open this link to choose one:\n\n%(link)s\n\n"
            "The link works once, until %(time)s. Setting a new password signs you out "
            "everywhere and ends your API tokens.\n\nIf you did not ask, ignore this email: "
            "your password stays as it is.\n\nThe Trellis team",
            link=p.get("link", ""), time=_when(p)),
        task=_no_task, secret=("link",),
    ),
    "invitation": Template(
        subject=lambda p: _("%(inviter)s invites you to order for %(partner)s on Trellis",
                            inviter=p.get("inviter", ""), partner=p.get("partner_name", "")),
        body=lambda p: _(
            "Hello,\n\n%(inviter)s invites you to the Trellis partner portal of "
            "%(partner)s. Open this link to choose your password and sign in:\n\n%(link)s\n\n"
            "The link works once, until %(time)s.\n\nThe Trellis team",
            inviter=p.get("inviter", ""), partner=p.get("partner_name", ""),
            link=p.get("link", ""), time=_when(p)),
        task=_no_task, secret=("link",),
    ),
}


def _recurring_reason(code: str) -> str:
    reasons = {
        "partner_inactive": _("the partner account is not active"),
        "nothing_orderable": _("none of its products is sold any more"),
    }
    return reasons.get(code, _("the order was refused"))


def _unavailable(payload: dict[str, Any]) -> str:
    names = payload.get("unavailable") or []
    return _("Not ordered: %(names)s.", names=", ".join(names)) if names else ""


def template_for(kind: str) -> Template:
    try:
        return TEMPLATES[kind]
    except KeyError:
        raise ValueError(f"no template for notification kind {kind!r}") from None


