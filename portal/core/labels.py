"""Translated labels for the values stored in the database (statuses, roles, channels...)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

LABELS = {
    # order statuses
    "submitted": _l("submitted"), "confirmed": _l("confirmed"), "shipped": _l("shipped"),
    "delivered": _l("delivered"), "cancelled": _l("cancelled"),
    # order sources
    "portal": _l("portal"), "reorder": _l("reorder"), "recurring": _l("recurring"),
    "api": _l("API"), "import": _l("import"),
    # partner statuses and stages
    "active": _l("active"), "paused": _l("paused"), "churned": _l("churned"),
    "prospect": _l("prospect"), "customer": _l("customer"), "client": _l("client"),
    "supporter": _l("supporter"), "advocate": _l("advocate"), "partner": _l("partner"),
    # roles
    "buyer": _l("buyer"), "partner_admin": _l("partner administrator"),
    "account_manager": _l("account manager"), "admin": _l("administrator"),
    # channels
    "email": _l("email"), "phone": _l("phone"), "visit": _l("visit"), "none": _l("none"),
    # tasks and notifications
    "open": _l("open"), "done": _l("done"), "pending": _l("pending"), "sent": _l("sent"),
    "task": _l("task"), "skipped": _l("skipped"), "failed": _l("failed"),
    # standing orders: cadences, modes and what became of an occurrence
    "weekly": _l("every week"), "biweekly": _l("every two weeks"), "monthly": _l("every month"),
    "quarterly": _l("every quarter"), "auto": _l("placed on the day"), "review": _l("reviewed first"),
    "created": _l("order placed"), "missed": _l("missed"),
    # referrals: statuses and where they came from
    "contacted": _l("contacted"), "qualified": _l("qualified"), "converted": _l("became a partner"),
    "rejected": _l("not taken further"), "duplicate": _l("duplicate"), "link": _l("referral link"),
    # a referral's duplicate match and lead-score reasons
    "name": _l("same company name"), "domain": _l("same company domain"),
    "base": _l("every referral"), "website": _l("a company website"),
    "company_email": _l("an email at the company's domain"), "city": _l("a city or region"),
    "note": _l("a note about the company"), "signed_in": _l("sent by a signed-in partner user"),
    "referrer_converted": _l("the referrer's earlier referrals became partners"),
    # why an occurrence was not placed
    "later_occurrence_due": _l("a later date was due too (catch-up after downtime)"),
    "partner_inactive": _l("the partner account is not active"),
    "nothing_orderable": _l("none of its products is sold any more"),
    "order_refused": _l("the order was refused"),
}


def label(value: str | None) -> str:
    """The translated label of a stored value (the value itself when unknown)."""
    if value is None:
        return ""
    return str(LABELS.get(value, value))
