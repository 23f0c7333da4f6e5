"""Review mode: a draft before each date, changed, confirmed or placed untouched, never twice;
the delivery address and PO pattern on the made orders; the partner's settings page."""
from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import func, select

from portal.core.access import Actor
from portal.core.errors import Conflict, ServiceError
from portal.models import AuditEvent, DeliveryAddress, Order, RecurringDraft, RecurringRun, RecurringSettings
from portal.recurring import drafts, engine, plan, settings, standing
from portal.recurring.standing import ScheduleData
from tests.portal.factories import Factories
from tests.portal.helpers import sign_in

START = date(2027, 1, 31)


@pytest.fixture
def setup(app, f, db):
    buyer = f.user()
    water = f.product(sku="BEV-001", name="Still water 1.5 l", base_price=Decimal("1.20"))
    jam = f.product(sku="JAM-280", name="Strawberry jam 280 g", base_price=Decimal("3.50"))
    actor = Actor.of(buyer)
    schedule = standing.create(db, actor, ScheduleData(
        name="Monthly restock", cadence="monthly", start_date=START, mode="review",
        lines=[(water.id, 24), (jam.id, 6)]), today=date(2027, 1, 10))[0]
    return app.extensions["trellis.session_factory"], buyer, actor, schedule, water, jam


@pytest.fixture
def prepare(app):
    """``drafts.prepare`` as the CLI and the Celery tasks run it: in an app context (the notices'
    links go to PUBLIC_URL). Only around the call: a context left pushed would share ``g`` between
    the test client's requests."""
    def run(today, **kwargs):
        with app.app_context():
            return drafts.prepare(app.extensions["trellis.session_factory"], today, **kwargs)
    return run


def orders_of(db, partner_id):
    db.expire_all()
    return db.scalars(select(Order).where(Order.partner_id == partner_id).order_by(Order.id)).all()


def the_draft(db, schedule_id):
    db.expire_all()
    return db.scalar(select(RecurringDraft).where(RecurringDraft.recurring_order_id == schedule_id))


def test_a_draft_appears_lead_days_before_and_is_made_once_however_often_it_runs(setup, db, prepare):
    factory, _buyer, _actor, schedule, water, jam = setup
    assert prepare(date(2027, 1, 27)).created == 0  # four days before: not yet
    assert prepare(date(2027, 1, 28)).created == 1  # three days before (default)
    assert prepare(date(2027, 1, 28)).created == 0
    assert prepare(date(2027, 1, 29)).created == 0
    assert db.scalar(select(func.count(RecurringDraft.id))) == 1
    draft = the_draft(db, schedule.id)
    assert draft.occurrence_date == START
    assert draft.lines == [{"product_id": water.id, "quantity": 24}, {"product_id": jam.id, "quantity": 6}]


def test_an_untouched_draft_is_placed_on_the_day_once(setup, db, prepare):
    factory, buyer, *_ = setup
    prepare(date(2027, 1, 28))
    assert engine.generate_due(factory, START).created == 1
    assert engine.generate_due(factory, START).occurrences == 0
    [order] = orders_of(db, buyer.partner_id)
    assert {(line.sku, line.quantity) for line in order.lines} == {("BEV-001", 24), ("JAM-280", 6)}


def test_a_changed_draft_is_placed_on_the_day_with_its_lines_and_the_schedule_stays(setup, db, prepare):
    factory, buyer, actor, schedule, water, jam = setup
    prepare(date(2027, 1, 28))
    draft = the_draft(db, schedule.id)
    drafts.change(db, actor, schedule.id, draft.id, [(water.id, 10)], today=date(2027, 1, 29))  # jam left out this time
    with pytest.raises(ServiceError):
        drafts.change(db, actor, schedule.id, draft.id, [], today=date(2027, 1, 29))  # nothing left: skip instead
    engine.generate_due(factory, START)
    [order] = orders_of(db, buyer.partner_id)
    assert [(line.sku, line.quantity) for line in order.lines] == [("BEV-001", 10)]
    assert len(standing.get(db, actor, schedule.id).lines) == 2  # only that date changed
    prepare(date(2027, 2, 25))  # the next draft is the schedule's again
    assert len(db.scalars(select(RecurringDraft).where(
        RecurringDraft.occurrence_date == date(2027, 2, 28))).one().lines) == 2
    assert db.scalar(select(AuditEvent.action).where(AuditEvent.action == "recurring_draft_changed"))
    with pytest.raises(Conflict):  # placed: it cannot be changed any more
        drafts.change(db, actor, schedule.id, draft.id, [(water.id, 1)], today=START)


def test_a_confirmed_draft_is_placed_now_once_and_the_day_adds_nothing(setup, db, prepare):
    factory, buyer, actor, schedule, *_ = setup
    prepare(date(2027, 1, 28))
    draft = the_draft(db, schedule.id)
    run = drafts.confirm(db, actor, schedule.id, draft.id, today=date(2027, 1, 29))
    assert run.outcome == "created" and run.occurrence_date == START
    [order] = orders_of(db, buyer.partner_id)
    assert order.idempotency_key == engine.order_key(schedule.id, START)
    assert standing.get(db, actor, schedule.id).next_date == date(2027, 2, 28)
    with pytest.raises(Conflict):
        drafts.confirm(db, actor, schedule.id, draft.id, today=date(2027, 1, 29))
    assert engine.generate_due(factory, START).occurrences == 0
    assert len(orders_of(db, buyer.partner_id)) == 1
    assert db.scalar(select(func.count(RecurringRun.id))) == 1


def test_a_skipped_date_hides_its_draft_and_a_change_of_lines_reaches_untouched_drafts(setup, db, prepare):
    factory, _buyer, actor, schedule, water, _jam = setup
    prepare(date(2027, 1, 28))
    draft = the_draft(db, schedule.id)
    current = standing.get(db, actor, schedule.id)
    standing.update_schedule(db, actor, schedule.id, ScheduleData(
        name="Bigger", cadence="monthly", start_date=START, mode="review", lines=[(water.id, 48)]),
        today=date(2027, 1, 28))
    assert the_draft(db, schedule.id).lines == [{"product_id": water.id, "quantity": 48}]
    assert [d.id for d in drafts.open_drafts(db, actor, [current.id], date(2027, 1, 28))[current.id]] == [draft.id]
    standing.skip(db, actor, schedule.id, START, today=date(2027, 1, 28))
    assert drafts.open_drafts(db, actor, [current.id], date(2027, 1, 28))[current.id] == []
    with pytest.raises(Conflict):
        drafts.change(db, actor, schedule.id, draft.id, [(water.id, 1)], today=date(2027, 1, 28))
    engine.generate_due(factory, START)
    assert orders_of(db, actor.partner_id) == []  # skipped: the draft is not placed


def test_another_partner_cannot_change_or_confirm_a_draft(setup, f, db, prepare):
    factory, buyer, _actor, schedule, water, _jam = setup
    prepare(date(2027, 1, 28))
    draft = the_draft(db, schedule.id)
    stranger = Actor.of(f.user())
    with pytest.raises(ServiceError):
        drafts.change(db, stranger, schedule.id, draft.id, [(water.id, 1)], today=date(2027, 1, 29))
    with pytest.raises(ServiceError):
        drafts.confirm(db, stranger, schedule.id, draft.id, today=date(2027, 1, 29))
    assert orders_of(db, buyer.partner_id) == [] and len(the_draft(db, schedule.id).lines) == 2


def test_the_lead_days_are_the_partners_setting(setup, f, db, prepare):
    factory, buyer, *_ = setup
    owner = Actor.of(f.user(role="partner_admin", partner=buyer.partner))
    settings.update(db, owner, review_lead_days=7, reminder_days=2)
    assert prepare(date(2027, 1, 24)).created == 1


def test_the_po_pattern_and_the_chosen_address_go_on_the_made_orders(setup, db):
    factory, buyer, actor, schedule, *_ = setup
    main = DeliveryAddress(partner_id=buyer.partner_id, label="Main", recipient="Shop", street="Rynek 1",
                           postal_code="00-950", city="Warszawa", is_default=True)
    back = DeliveryAddress(partner_id=buyer.partner_id, label="Back door", recipient="Shop",
                           street="Tylna 2", postal_code="00-951", city="Warszawa")
    db.add_all([main, back])
    db.commit()
    current = standing.get(db, actor, schedule.id)
    standing.update_schedule(db, actor, schedule.id, ScheduleData(
        name=current.name, cadence="monthly", start_date=START, mode="auto", po_pattern="PO-{year}-{month}",
        address_id=back.id, lines=[(line.product_id, line.quantity) for line in current.lines]),
        today=date(2027, 1, 10))
    engine.generate_due(factory, START)
    [order] = orders_of(db, buyer.partner_id)
    assert order.po_reference == "PO-2027-01" and order.delivery_address["street"] == "Tylna 2"
    db.delete(db.get(DeliveryAddress, back.id))  # removed: the default address from then on
    db.commit()
    engine.generate_due(factory, date(2027, 2, 28))
    assert orders_of(db, buyer.partner_id)[-1].delivery_address["street"] == "Rynek 1"


@pytest.mark.parametrize(("pattern", "made"), [
    ("PO-{date}", "PO-2027-03-31"), ("{year}/W{week}", "2027/W13"), ("{name} {day}.{month}", "Milk 31.03"),
    ("{{fixed}}", "{fixed}"), ("", None)])
def test_po_placeholders(pattern, made):
    assert plan.check_pattern(pattern) == pattern
    assert plan.po_reference(pattern, date(2027, 3, 31), "Milk") == made


@pytest.mark.parametrize("pattern", ["{quarter}", "{year", "year}", "{date!r}", "{day:>3}", "{date}" * 4])
def test_bad_po_patterns_are_refused_on_the_field(pattern):
    with pytest.raises(ServiceError) as err:
        plan.check_pattern(pattern)
    assert err.value.field == "po_pattern"


# --- pages ------------------------------------------------------------------------------------------

@pytest.fixture
def clock():
    with time_machine.travel("2027-01-29 09:00:00+00:00", tick=False):
        yield


def test_the_partner_reviews_changes_and_confirms_on_the_pages(setup, app, clock, db, prepare):
    factory, buyer, _actor, schedule, *_ = setup
    prepare(date(2027, 1, 28))
    draft = the_draft(db, schedule.id)
    client = app.test_client()
    sign_in(client, buyer)
    assert "Review the order of Jan 31, 2027 of Monthly restock" in client.get("/standing-orders").text
    page = client.get(f"/standing-orders/{schedule.id}").text
    assert "To review" in page and f"/drafts/{draft.id}/confirm" in page
    url = f"/standing-orders/{schedule.id}/drafts/{draft.id}"
    assert "BEV-001 24" in client.get(url).text
    assert client.post(url, data={"lines": "NOPE 2"}).status_code == 422
    assert client.post(url, data={"lines": "BEV-001 12", "version": "1"}).status_code == 302
    assert the_draft(db, schedule.id).lines[0]["quantity"] == 12
    asked = client.get(f"{url}/confirm")
    assert asked.status_code == 200 and "Yes, place it now" in asked.text and orders_of(db, buyer.partner_id) == []
    done = client.post(f"{url}/confirm")
    [order] = orders_of(db, buyer.partner_id)
    assert done.headers["Location"] == f"/orders/{order.id}"
    shown = client.get(f"/orders/{order.id}").text
    assert "From standing order" in shown and f'href="/standing-orders/{schedule.id}"' in shown
    assert "Jan 31, 2027" in shown


def test_the_cart_and_a_past_order_link_to_a_new_standing_order(setup, app, f, db):
    _factory, buyer, _actor, _schedule, water, _jam = setup
    client = app.test_client()
    sign_in(client, buyer)
    order = f.order(buyer.partner, lines=[(water, 2)])
    assert f"/standing-orders/new?from_order={order.id}" in client.get(f"/orders/{order.id}").text
    client.post("/cart/add", data={"product_id": water.id, "quantity": 5})
    assert "/standing-orders/new?from=cart" in client.get("/cart").text


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/standing-orders/{s}/drafts/{d}"), ("POST", "/standing-orders/{s}/drafts/{d}"),
    ("GET", "/standing-orders/{s}/drafts/{d}/confirm"), ("POST", "/standing-orders/{s}/drafts/{d}/confirm")])
def test_another_partners_draft_is_a_404_and_changes_nothing(setup, app, f, db, method, path, prepare):
    factory, buyer, _actor, schedule, *_ = setup
    prepare(date(2027, 1, 28))
    draft = the_draft(db, schedule.id)
    stranger = app.test_client()
    sign_in(stranger, f.user())
    response = stranger.open(path.format(s=schedule.id, d=draft.id), method=method, data={"lines": "BEV-001 1"})
    assert response.status_code == 404
    assert orders_of(db, buyer.partner_id) == [] and the_draft(db, schedule.id).changed_at is None


def test_the_settings_page_is_the_partner_admins_with_defaults_bounds_and_audit(setup, app, f, db):
    _factory, buyer, *_ = setup
    owner = f.user(role="partner_admin", partner=buyer.partner)
    client = app.test_client()
    sign_in(client, owner)
    page = client.get("/standing-orders/settings").text
    assert 'value="3"' in page and 'value="2"' in page  # no row: the defaults
    for bad in ({"review_lead_days": "15", "reminder_days": "2"}, {"review_lead_days": "3", "reminder_days": "0"},
                {"review_lead_days": "x", "reminder_days": "2"}):
        assert client.post("/standing-orders/settings", data=bad).status_code == 422
    assert db.scalar(select(func.count()).select_from(RecurringSettings)) == 0
    assert client.post("/standing-orders/settings", data={"review_lead_days": "0", "reminder_days": "5"}
                       ).status_code == 302
    assert settings.for_partner(db, buyer.partner_id) == settings.Settings(0, 5)
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "recurring_settings_changed"))
    assert event.detail["changes"] == {"review_lead_days": [3, 0], "reminder_days": [2, 5]}
    buyers = app.test_client()
    sign_in(buyers, buyer)
    assert buyers.get("/standing-orders/settings").status_code == 403
    with pytest.raises(ServiceError):
        settings.update(db, Actor.of(buyer), review_lead_days=1, reminder_days=1)


@pytest.mark.postgres
def test_drafts_and_a_confirm_racing_the_day_make_one_draft_and_one_order(live_pg_app):
    app = live_pg_app
    factory = app.extensions["trellis.session_factory"]
    with factory() as db:
        f = Factories(db)
        water = f.product(sku="BEV-001", base_price=Decimal("1.00"))
        actors = [Actor.of(f.user()) for _ in range(20)]
        ids = [standing.create(db, actor, ScheduleData(
            name="", cadence="monthly", start_date=START, mode="review", lines=[(water.id, 3)]),
            today=date(2027, 1, 1))[0].id for actor in actors]

    def race(*jobs):
        barrier = threading.Barrier(len(jobs))
        errors = []

        def run(job):
            with app.app_context():
                barrier.wait()
                try:
                    job()
                except Conflict as err:  # the other one placed it first: said, not a 500
                    errors.append(err)

        threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        return errors

    race(lambda: drafts.prepare(factory, date(2027, 1, 28)), lambda: drafts.prepare(factory, date(2027, 1, 28)))
    with factory() as db:
        assert db.scalar(select(func.count(RecurringDraft.id))) == 20
        draft_ids = dict(db.execute(select(RecurringDraft.recurring_order_id, RecurringDraft.id)).all())

    def confirm_all():
        with factory() as db:
            for actor, schedule_id in zip(actors, ids, strict=True):
                try:
                    drafts.confirm(db, actor, schedule_id, draft_ids[schedule_id], today=START)
                except Conflict:
                    db.rollback()

    race(confirm_all, lambda: engine.generate_due(factory, START))
    with factory() as db:
        assert db.scalar(select(func.count(Order.id))) == 20
        assert db.scalar(select(func.count(RecurringRun.id))) == 20
        assert set(db.scalars(select(RecurringRun.outcome))) == {"created"}
