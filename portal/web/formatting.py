"""How pages write numbers, money, percentages, dates and times: the locale's way, in the
wholesaler's time zone.

Every template goes through these filters (``|money``, ``|number``, ``|percent``, ``|datetime``,
``|date``, ``|month``); nothing calls ``strftime`` or formats a number by hand. They use Babel
through Flask-Babel, so the signed-in user's language (or the browser's, signed out) decides
``PLN 1,234.50`` against ``1234,50 zł``, and ``TRELLIS_TIMEZONE`` (``BABEL_DEFAULT_TIMEZONE``,
default Europe/Warsaw) turns the UTC times stored in the database into local ones.
"""
from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import flask_babel
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from flask import current_app
from markupsafe import Markup

# CLDR's currency spacing: a currency written as letters ("PLN") is kept apart from the digits
# by a no-break space. Babel leaves it out ("PLN1.17"), so it is put back here.
_LETTERS_THEN_DIGIT = re.compile(r"^([-−]?)([^\W\d_]+)(?=\d)")


def money(value: Decimal | int | None, currency: str | None = None) -> str:
    """An amount in the locale's currency format: ``PLN 1,234.50`` / ``1234,50 zł``."""
    if value is None:
        return "—"
    text = flask_babel.format_currency(value, currency or current_app.config["CURRENCY"])
    return _LETTERS_THEN_DIGIT.sub(lambda m: f"{m.group(1)}{m.group(2)}\u00a0", text)


def number(value: int | Decimal | float | None, places: int | None = None) -> str:
    """A number with the locale's digit grouping (``6,390`` / ``6390``); ``places`` fixes decimals."""
    if value is None:
        return "—"
    if places is not None:
        pattern = "#,##0" + ("." + "0" * places if places else "")
        return flask_babel.format_decimal(value, format=pattern)
    return flask_babel.format_decimal(value)


def percent(value: Decimal | float | None, places: int = 0) -> str:
    """A share (0.125 → ``12.5%`` / ``12,5%``)."""
    if value is None:
        return "—"
    share = Decimal(str(value)).quantize(Decimal(1).scaleb(-(places + 2)))
    # The locale's own pattern (its spacing, e.g. "12,5 %"), showing up to `places` decimals.
    return babel_numbers.format_percent(share, locale=flask_babel.get_locale(),
                                        decimal_quantization=False)


def _aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; the database holds UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def local_datetime(value: datetime | None) -> str:
    """A stored UTC time in the wholesaler's time zone, as the locale writes it
    (``Dec 2, 2026, 3:29 PM`` / ``2 gru 2026, 15:29``)."""
    if value is None:
        return "—"
    local = flask_babel.to_user_timezone(_aware(value))
    locale = flask_babel.get_locale()
    # The locale's own way of joining a medium date and a short time ("{1}, {0}").
    joined = babel_dates.get_datetime_format("medium", locale=locale)
    return joined.replace("{1}", babel_dates.format_date(local, "medium", locale=locale)).replace(
        "{0}", babel_dates.format_time(local, "short", locale=locale))


def local_date(value: date | datetime | None, fmt: str = "medium") -> str:
    """A date as the locale writes it (``Dec 2, 2026`` / ``2 gru 2026``); a datetime is converted
    to the wholesaler's time zone first (an order placed at 23:30 UTC may be tomorrow in Warsaw)."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = flask_babel.to_user_timezone(_aware(value)).date()
    return flask_babel.format_date(value, fmt)


def month(value: date | datetime) -> str:
    """A month and year (``Dec 2026`` / ``gru 2026``), for charts and monthly tables."""
    if isinstance(value, datetime):
        value = flask_babel.to_user_timezone(_aware(value)).date()
    return babel_dates.format_skeleton("yMMM", value, locale=flask_babel.get_locale())


def iso_datetime(value: datetime | None) -> Markup:
    """The machine-readable ``datetime`` attribute of a ``<time>`` element."""
    return Markup("") if value is None else Markup(_aware(value).isoformat())


def _grouped_count(translated: str, n: int) -> str:
    # The catalogues write counts as %(num)d; the locale writes them grouped ("4,567 orders").
    return translated.replace("%(num)d", number(n)) if isinstance(n, int) else translated


def ngettext(singular: str, plural: str, n: int, **variables) -> str:
    """flask_babel.ngettext with the count written the locale's way (``4,567 orders``)."""
    translated = flask_babel.get_translations().ungettext(singular, plural, n)
    return _grouped_count(translated, n) % {"num": n, **variables}


FILTERS = {
    "money": money, "number": number, "percent": percent, "datetime": local_datetime,
    "date": local_date, "month": month, "iso": iso_datetime,
}


def register(app) -> None:
    app.jinja_env.filters.update(FILTERS)
    # Templates' {{ ngettext(...) }} too: Jinja formats the variables after this returns.
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: flask_babel.get_translations().ugettext(s),
        ngettext=lambda s, p, n: _grouped_count(flask_babel.get_translations().ungettext(s, p, n), n),
        newstyle=True,
        pgettext=lambda c, s: flask_babel.get_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _grouped_count(
            flask_babel.get_translations().unpgettext(c, s, p, n), n),
    )
