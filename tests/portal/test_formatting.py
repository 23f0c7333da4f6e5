"""Money, numbers, percentages and times as each language writes them, in the wholesaler's zone."""
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from flask_babel import force_locale

from portal.web import formatting

NBSP = "\u00a0"


@pytest.fixture
def ctx(app):
    with app.test_request_context("/"):
        yield


def test_money_has_the_locales_currency_format(ctx):
    with force_locale("en"):
        assert formatting.money(Decimal("1.17")) == f"PLN{NBSP}1.17"
        assert formatting.money(Decimal("650193.68")) == f"PLN{NBSP}650,193.68"
        assert formatting.money(Decimal("-5")) == f"-PLN{NBSP}5.00"
    with force_locale("pl"):
        assert formatting.money(Decimal("1234.50")) == f"1{NBSP}234,50{NBSP}zł"
        assert formatting.money(Decimal("0.5")) == f"0,50{NBSP}zł"
    assert formatting.money(None) == "—"


def test_counts_and_quantities_are_grouped(ctx):
    with force_locale("en"):
        assert formatting.number(6390) == "6,390"
        assert formatting.number(Decimal("1234.5"), 2) == "1,234.50"
        assert formatting.percent(Decimal("0.125"), 1) == "12.5%"
        assert formatting.ngettext("%(num)d order", "%(num)d orders", 4567) == "4,567 orders"
    with force_locale("pl"):
        assert formatting.number(16390) == f"16{NBSP}390"
        assert formatting.percent(Decimal("0.125"), 1) == "12,5%"  # CLDR: no space in Polish
        assert formatting.ngettext("%(num)d order", "%(num)d orders", 4567) == f"4{NBSP}567 zamówień"
        assert formatting.ngettext("%(num)d order", "%(num)d orders", 22) == "22 zamówienia"


def test_times_are_shown_in_the_wholesalers_time_zone(ctx):
    # 23:30 UTC on 31 December is already New Year's Day in Warsaw (UTC+1 in winter).
    late = datetime(2025, 12, 31, 23, 30, tzinfo=UTC)
    with force_locale("en"):
        assert formatting.local_datetime(late) == "Jan 1, 2026, 12:30\u202fAM"
        assert formatting.local_date(late) == "Jan 1, 2026"
        assert formatting.month(late) == "Jan 2026"
        assert formatting.local_date(date(2026, 3, 5)) == "Mar 5, 2026"
    with force_locale("pl"):
        assert formatting.local_datetime(late) == "1 sty 2026, 00:30"
        assert formatting.local_date(late) == "1 sty 2026"
    # SQLite gives naive datetimes back: they are UTC.
    with force_locale("pl"):
        assert formatting.local_datetime(datetime(2026, 7, 1, 10, 0)) == "1 lip 2026, 12:00"


def test_the_time_zone_is_a_setting(make_app):
    app = make_app(BABEL_DEFAULT_TIMEZONE="UTC")
    with app.test_request_context("/"), force_locale("en"):
        assert formatting.local_datetime(datetime(2025, 12, 31, 23, 30, tzinfo=UTC)) == "Dec 31, 2025, 11:30\u202fPM"


def test_a_wrong_time_zone_stops_the_start_with_a_clear_message(monkeypatch, tmp_path):
    from portal.config import load_config

    monkeypatch.setenv("TRELLIS_TIMEZONE", "Europe/Warszawa")
    with pytest.raises(RuntimeError, match="TRELLIS_TIMEZONE='Europe/Warszawa' is not a time zone"):
        load_config(tmp_path)


def test_pages_group_counts_in_both_languages(app, f):
    from tests.portal.helpers import sign_in

    for n in range(3):
        f.product(sku=f"SKU-{n}", base_price=Decimal("1234.50"))
    english, polish = app.test_client(), app.test_client()
    sign_in(english, f.user(role="admin", locale="en"))
    sign_in(polish, f.user(role="admin", locale="pl"))
    page = english.get("/admin/catalog/products").text
    assert "3 products" in page and f"PLN{NBSP}1,234.50" in page
    page = polish.get("/admin/catalog/products").text
    assert "3 produkty" in page and f"1{NBSP}234,50{NBSP}zł" in page
