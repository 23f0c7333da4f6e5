"""The portfolio page's forecast half: the forecast and trust columns (sorted, filtered, in the
CSV), the portfolio total with its interval, the alerts, the manager's scope; and that sorting
and filtering on the cheap figures of every partner agrees with the full KPIs."""
from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from portal.core.access import Actor
from portal.core.types import utc_now
from portal.models import ForecastAdjustment, Referral
from portal.web.formatting import money
from portal.workspace import forecast_portfolio, kpis, portfolio_table
from portal.workspace.kpis import at_noon
from tests.portal.forecast_helpers import store_run
from tests.portal.helpers import sign_in

D = Decimal


def _client(app, user):
    client = app.test_client()
    assert sign_in(client, user).status_code == 302
    return client


def _body(page) -> str:
    return page.text.split("<tbody>")[1].split("</tbody>")[0]


def _setup(f, db):
    """Four partners of one manager (one failed, one adjusted, one no better than naive, one not
    in the run) and one of another manager, in two runs a month apart."""
    manager = f.user(role="account_manager", name="Mia Manager")
    other_manager = f.user(role="account_manager", name="Otto Other")
    product = f.product()
    today = datetime.now(UTC).date()
    big = f.partner(name="Big Shop", account_manager_id=manager.id)
    small = f.partner(name="Small Shop", account_manager_id=manager.id)
    broken = f.partner(name="Broken Shop", account_manager_id=manager.id)
    fresh = f.partner(name="Fresh Shop", account_manager_id=manager.id)
    theirs = f.partner(name="Their Shop", account_manager_id=other_manager.id)
    for p in (big, small, broken, theirs):
        for i in range(6):
            f.order(p, lines=[(product, 2)], status="delivered", created_at=at_noon(today - timedelta(days=10 * i + 1)))
    now = utc_now()
    month = date(now.year, now.month, 1)
    store_run(db, month, now - timedelta(days=30), {
        big.id: ("9000.00", 100.0, "ok"), small.id: ("1000.00", 50.0, "ok"), broken.id: ("700.00", 10.0, "ok"),
        theirs.id: ("99999.00", 10.0, "ok")})
    run = store_run(db, month, now, {
        big.id: ("5000.00", 100.0, "ok"), small.id: ("1200.00", 50.0, "ok", 1.3),
        broken.id: ("0", 0.0, "failed"), theirs.id: ("77777.00", 10.0, "ok")})
    db.add(ForecastAdjustment(partner_id=small.id, amount=D("3000.00"), note="New shelf", created_at=now))
    db.commit()
    return manager, other_manager, run, big, small, broken, fresh, theirs


def test_the_forecast_and_trust_columns_show_sort_and_filter(app, f, db):
    manager, _other, _run, big, small, broken, fresh, theirs = _setup(f, db)
    client = _client(app, manager)
    page = client.get("/manage/portfolio")
    assert "Next 12 months (forecast)" in page.text and "Forecast trust" in page.text
    body = _body(page)
    assert "better than repeating last year" in body and "no better than repeating last year" in body
    assert "forecast failed" in body and "(adjusted)" in body
    # Highest first: Big (5,000), then Small (adjusted to 3,000, statistically 1,200); without a
    # forecast (Fresh: not in the run; Broken: failed) last, in either direction.
    down = _body(client.get("/manage/portfolio?sort=forecast&dir=desc"))
    up = _body(client.get("/manage/portfolio?sort=forecast&dir=asc"))
    order = lambda text, names: sorted(names, key=text.index)  # noqa: E731
    names = ["Big Shop", "Small Shop", "Broken Shop", "Fresh Shop"]
    assert order(down, names)[:2] == ["Big Shop", "Small Shop"]
    assert order(up, names)[:2] == ["Small Shop", "Big Shop"]
    assert set(order(down, names)[2:]) == set(order(up, names)[2:]) == {"Broken Shop", "Fresh Shop"}
    by_trust = _body(client.get("/manage/portfolio?sort=trust&dir=desc"))
    assert order(by_trust, ["Big Shop", "Small Shop"]) == ["Big Shop", "Small Shop"]
    better = _body(client.get("/manage/portfolio?trust=better"))
    assert "Big Shop" in better and "Small Shop" not in better and "Fresh Shop" not in better
    unknown = _body(client.get("/manage/portfolio?trust=unknown"))
    assert "Fresh Shop" in unknown and "Broken Shop" in unknown and "Big Shop" not in unknown
    assert "Ignored filters" in client.get("/manage/portfolio?trust=sure").text


def test_the_csv_has_the_forecast_columns(app, f, db):
    manager, _other, _run, big, small, broken, fresh, theirs = _setup(f, db)
    text = _client(app, manager).get("/manage/portfolio/export.csv?sort=partner&dir=asc").text
    rows = {r["partner_name"]: r for r in csv.DictReader(io.StringIO(text.lstrip("\ufeff")))}
    assert set(rows) == {"Big Shop", "Small Shop", "Broken Shop", "Fresh Shop"}
    assert rows["Big Shop"]["forecast_next_12_months"] == "5000.00"
    assert rows["Big Shop"]["forecast_trust"] == "better" and rows["Big Shop"]["forecast_adjusted"] == ""
    lower, upper = D(rows["Big Shop"]["forecast_lower_80"]), D(rows["Big Shop"]["forecast_upper_80"])
    assert lower < D("5000") < upper
    small_row = rows["Small Shop"]
    assert (small_row["forecast_next_12_months"], small_row["forecast_statistical"], small_row["forecast_adjusted"],
            small_row["forecast_trust"]) == ("3000.00", "1200.00", "3000.00", "no_better")
    assert (rows["Broken Shop"]["forecast_status"], rows["Broken Shop"]["forecast_next_12_months"]) == ("failed", "")
    assert rows["Fresh Shop"]["forecast_status"] == "" and rows["Fresh Shop"]["forecast_trust"] == ""


def test_the_banner_total_is_the_portfolio_forecast_of_the_managers_partners(app, f, db):
    manager, other_manager, run, big, small, *_ = _setup(f, db)
    figures = forecast_portfolio.portfolio_forecast(db, Actor.of(manager))
    assert figures.total == D("8000.00")  # Big 5,000 + Small adjusted 3,000; not the other manager's
    page = _client(app, manager).get("/manage/portfolio").text
    banner = page.split('id="forecast-title"')[1].split("</section>")[0]
    with app.test_request_context():
        for amount in (figures.total, figures.lower_80, figures.upper_80, figures.statistical_total):
            assert money(amount) in banner
        assert money(D("77777.00")) not in page
    admin = _client(app, f.user(role="admin"))
    everyone = forecast_portfolio.portfolio_forecast(db, Actor.of(f.user(role="admin")))
    assert everyone.total == D("85777.00")
    for query, expected in (("", everyone.total), (f"?manager={other_manager.id}", D("77777.00"))):
        banner = admin.get(f"/manage/portfolio{query}").text.split('id="forecast-title"')[1].split("</section>")[0]
        with app.test_request_context():
            assert money(expected) in banner, query


def test_without_a_run_the_banner_says_so(app, f):
    manager = f.user(role="account_manager")
    f.partner(account_manager_id=manager.id)
    page = _client(app, manager).get("/manage/portfolio").text
    assert "No forecast has been made yet" in page


def test_the_alerts_list_falls_failures_and_overdue_partners_of_my_portfolio(app, f, db):
    manager, _other, _run, big, small, broken, fresh, theirs = _setup(f, db)
    product = f.product()
    today = datetime.now(UTC).date()
    lapsed = f.partner(name="Lapsed Shop", account_manager_id=manager.id)
    for i in range(8):
        f.order(lapsed, lines=[(product, 1)], status="delivered",
                created_at=at_noon(today - timedelta(days=100 + 7 * i)))
    page = _client(app, manager).get("/manage/portfolio").text
    falls = page.split('id="falls-title"')[1].split("</section>")[0]
    assert "Big Shop" in falls and "Small Shop" not in falls and "Their Shop" not in falls  # 9,000 → 5,000
    failed = page.split('id="failed-title"')[1].split("</section>")[0]
    assert "Broken Shop" in failed and "boom" in failed
    overdue = page.split('id="alerts-title"')[1].split("</section>")[0]
    assert "Lapsed Shop" in overdue and "Big Shop" not in overdue
    assert "Their Shop" not in page


def test_sorting_spans_every_partner_not_only_the_page(f, db):
    manager = f.user(role="account_manager")
    product = f.product()
    today = datetime.now(UTC).date()
    partners = []
    for n in range(7):
        p = f.partner(name=f"Shop {n}", account_manager_id=manager.id)
        for i in range(n + 1):
            f.order(p, lines=[(product, n + 1)], status="delivered",
                    created_at=at_noon(today - timedelta(days=5 * i + 2)))
        partners.append(p)
    me = Actor.of(manager)
    seen = []
    for page in (1, 2, 3):
        found = portfolio_table.portfolio(db, me, portfolio_table.Filters(sort="revenue", direction="desc"),
                                          page=page, per_page=3)
        assert found.total == 7 and found.pages == 3
        seen += [r.partner.name for r in found.rows]
        assert all(isinstance(r.k, kpis.Kpis) for r in found.rows)  # full KPIs for the rows shown
    assert seen == [f"Shop {n}" for n in range(6, -1, -1)]


def test_the_cheap_sort_figures_agree_with_the_full_kpis(f, db):
    product = f.product()
    today = datetime.now(UTC).date()
    now = datetime.now(UTC)
    partners = [f.partner() for _ in range(5)]
    for n, p in enumerate(partners):
        for i in range(3 * n):
            f.order(p, lines=[(product, 1 + i % 3)], status="delivered",
                    created_at=at_noon(today - timedelta(days=(40 + 20 * n) * i + 1)))
        f.order(p, lines=[(product, 9)], status="cancelled", created_at=now - timedelta(days=3))
    from portal.models import Feedback

    db.add(Feedback(partner_id=partners[2].id, quarter="2026Q1", score=9, created_at=now - timedelta(days=20)))
    db.commit()
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Europe/Warsaw")
    ids = [p.id for p in partners]
    light, full = kpis.keys(db, ids, now=now, zone=zone), kpis.compute(db, ids, now=now, zone=zone)
    for pid in ids:
        k, cheap = full[pid], light[pid]
        assert (cheap.last_12, cheap.previous_12, cheap.growth, cheap.churn_risk, cheap.latest_nps, cheap.rhythm) == (
            k.last_12, k.previous_12, k.growth, k.churn_risk, k.latest_nps, k.rhythm), pid
    again = kpis.compute(db, ids, now=now, zone=zone, order_days={pid: light[pid].days for pid in ids})
    assert again == full


def test_the_portfolio_suggests_advocate_after_a_referral(app, f, db):
    manager = f.user(role="account_manager")
    product = f.product()
    today = datetime.now(UTC).date()
    shop = f.partner(name="Friendly Shop", account_manager_id=manager.id, stage="client")
    for i in range(3):
        f.order(shop, lines=[(product, 1)], status="delivered", created_at=at_noon(today - timedelta(days=9 * i + 1)))
    client = _client(app, manager)
    assert "suggested: Advocate" not in _body(client.get("/manage/portfolio"))
    db.add(Referral(referrer_id=shop.id, source="portal", company_name="Corner Cafe", contact_name="Cal",
                    email="cal@cafe.test", consent=True, company_key="corner cafe", email_key="cal@cafe.test",
                    idempotency_key="k1", request_hash="0" * 64))
    db.commit()
    body = _body(client.get("/manage/portfolio"))
    assert "suggested:" in body and "dvocate" in body
    text = client.get("/manage/portfolio/export.csv").text
    assert ",client,advocate," in text


def test_the_partners_api_carries_the_forecast_and_filters_on_trust(app, f, db):
    from tests.portal.helpers import bearer, issue

    manager, _other, _run, big, small, broken, fresh, theirs = _setup(f, db)
    client = app.test_client()
    token = issue(client, manager)
    items = {item["code"]: item for item in
             client.get("/api/v1/partners?sort=forecast", headers=bearer(token)).get_json()["items"]}
    assert theirs.code not in items
    assert items[big.code]["forecast"]["expected"] == "5000.00"
    assert items[big.code]["forecast"]["trust"] == "better"
    adjusted = items[small.code]["forecast"]
    assert (adjusted["expected"], adjusted["total"], adjusted["adjusted_total"], adjusted["trust"]) == (
        "3000.00", "1200.00", "3000.00", "no_better")
    assert items[broken.code]["forecast"]["status"] == "failed" and items[broken.code]["forecast"]["expected"] is None
    assert items[fresh.code]["forecast"] is None
    better = client.get("/api/v1/partners?trust=better", headers=bearer(token)).get_json()["items"]
    assert [item["code"] for item in better] == [big.code]
    one = client.get(f"/api/v1/partners/{small.id}", headers=bearer(token)).get_json()
    assert one["forecast"]["expected"] == "3000.00"
