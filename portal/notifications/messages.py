"""What each kind of notification says: an email's subject and body, or a manager's task title."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _


@dataclass(frozen=True)
class Template:
    subject: Callable[[dict[str, Any]], str]
    body: Callable[[dict[str, Any]], str]
    task: Callable[[dict[str, Any]], str]  # the title of an account manager's follow-up


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


