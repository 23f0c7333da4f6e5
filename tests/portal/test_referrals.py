"""Referrals in: the signed-in form, the public form behind a referral link, duplicates, once only."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.models import Notification, Referral
from portal.referrals import intake
from tests.portal.helpers import sign_in

FORM = {"company_name": "Sklep Łąka Sp. z o.o.", "contact_name": "Anna Nowak",
        "email": "anna@sklep-laka.pl", "phone": "+48 600 100 200", "website": "https://www.sklep-laka.pl/",
        "city": "Kraków", "note": "Great deli, wants organic jams.", "consent": "y",
        "idempotency_key": "form-1"}


@pytest.fixture
def buyer(app, f):
    manager = f.user(role="account_manager")
    partner = f.partner(name="Delikatesy Kowalski", referral_code="kowal001", account_manager_id=manager.id)
    user = f.user(partner=partner)
    client = app.test_client()
    sign_in(client, user)
    client.user, client.partner = user, partner
    return client


def refer(client, **overrides):
    return client.post("/referrals/new", data={**FORM, **overrides})


def count(db) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Referral))


# --- normalising ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["Sklep Łąka", "SKLEP ŁĄKA SP. Z O.O.", "sklep  łąka, s.a.",
                                  "Sklep Laka sp.z o.o.", "Sklep Łąka spzoo", "ｓｋｌｅｐ łąka"])
def test_company_names_compare_without_case_accents_punctuation_or_legal_form(name):
    assert intake.company_key(name) == "sklep laka"


def test_a_legal_form_alone_is_not_stripped_to_nothing():
    assert intake.company_key("S.A.") == "s a"


@pytest.mark.parametrize(("typed", "host"), [
    ("https://www.Sklep-Laka.pl/shop?x=1", "sklep-laka.pl"), ("sklep-laka.pl", "sklep-laka.pl"),
    ("http://łąka.pl", "xn--ka-ola7v.pl"), ("xn--ka-ola7v.pl", "xn--ka-ola7v.pl"), ("", "")])
def test_website_hosts(typed, host):
    assert intake.website_host(typed) == host


@pytest.mark.parametrize("typed", ["javascript:alert(1)", "not a site", "http://localhost", "ftp://x.pl",
                                   "http://[::1", "ex\u2100ample.pl"])
def test_what_is_not_a_website_is_refused(typed):
    with pytest.raises(intake.ServiceError):
        intake.website_host(typed)


def test_a_name_that_normalises_longer_still_fits_its_column():
    assert len(intake.company_key("\ufdfa" * 200)) <= intake.MAX_NAME


def test_an_email_domain_with_wildcards_is_no_domain():
    assert intake.company_domain("x@%.%", "") == ""


def test_free_mail_says_nothing_about_the_company():
    assert intake.company_domain("anna@gmail.com", "") == ""
    assert intake.company_domain("anna@sklep-laka.pl", "") == "sklep-laka.pl"
    assert intake.company_domain("anna@gmail.com", "www.laka.pl") == "laka.pl"


# --- the signed-in form -----------------------------------------------------------------------------

def test_a_buyer_refers_a_company_and_follows_it(buyer, db):
    assert "You have not recommended anyone yet." in buyer.get("/referrals").text
    response = refer(buyer)
    assert response.status_code == 302 and response.headers["Location"] == "/referrals"
    page = buyer.get("/referrals").text
    assert "We will contact Sklep Łąka Sp. z o.o. soon" in page
    assert "Anna Nowak" in page and "submitted" in page and "1 referral sent" in page
    referral = db.scalar(select(Referral))
    assert (referral.status, referral.source, referral.referrer_id) == ("submitted", "portal", buyer.partner.id)
    assert referral.submitted_by_id == buyer.user.id and referral.domain == "sklep-laka.pl"
    assert [e.to_status for e in referral.events] == ["submitted"]
    # the referrer's account manager gets a follow-up task to contact them
    note = db.scalar(select(Notification).where(Notification.kind == "referral_received"))
    assert note.channel == "phone" and note.partner_id == buyer.partner.id


def test_the_referral_link_is_on_the_page_with_a_copy_button(buyer):
    page = buyer.get("/referrals").text
    assert "/r/kowal001" in page and 'data-copy="#referral-link"' in page


@pytest.mark.parametrize(("field", "value", "message"), [
    ("company_name", "", "This field is required."),
    ("email", "anna-at-laka", "Enter an email address such as name@example.pl."),
    ("phone", "call me <b>", "A phone number has digits"),
    ("website", "javascript:alert(1)", "Enter the website as an address such as www.example.pl."),
    ("note", "x" * 2001, "2000"),
    ("consent", "", "We contact only companies that agreed to it"),
])
def test_bad_input_is_explained_and_nothing_is_stored(buyer, db, field, value, message):
    data = {**FORM, field: value}
    if field == "consent":
        del data["consent"]
    response = buyer.post("/referrals/new", data=data)
    assert response.status_code == 422
    assert message in response.text
    assert count(db) == 0


def test_the_same_form_sent_twice_is_one_referral(buyer, db):
    assert refer(buyer).status_code == 302
    assert refer(buyer).status_code == 302
    assert count(db) == 1
    assert refer(buyer, idempotency_key="form-2", company_name="Another shop", email="x@another.pl",
                 website="").status_code == 302
    assert count(db) == 2


def test_a_nul_byte_is_refused_and_nothing_is_stored(buyer, db):
    assert refer(buyer, company_name="Sklep\x00Łąka").status_code == 400
    assert count(db) == 0


def test_script_in_the_note_or_name_is_shown_escaped(buyer):
    refer(buyer, company_name="<script>alert(1)</script>", website="")
    page = buyer.get("/referrals").text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_a_partner_sees_only_its_own_referrals(app, f, buyer):
    refer(buyer)
    other = app.test_client()
    sign_in(other, f.user())
    page = other.get("/referrals").text
    assert "Anna Nowak" not in page and "You have not recommended anyone yet." in page


# --- duplicates ----------------------------------------------------------------------------------

def test_a_company_already_a_partner_is_a_kindly_told_duplicate(buyer, db, f):
    known = f.partner(name="SKLEP ŁĄKA S.A.")
    response = refer(buyer, website="", email="anna@gmail.com")
    assert response.status_code == 302
    assert "already known to us" in buyer.get("/referrals").text
    referral = db.scalar(select(Referral))
    assert (referral.status, referral.duplicate_reason, referral.duplicate_of_partner_id) == (
        "duplicate", "name", known.id)
    # no task for the manager about a known company
    assert db.scalar(select(Notification).where(Notification.kind == "referral_received")) is None


def test_an_email_of_a_partners_user_is_a_duplicate(buyer, db, f):
    known = f.partner(name="Totally different name")
    f.user(partner=known, email="anna@sklep-laka.pl")
    refer(buyer, email="Anna@Sklep-Laka.PL ")
    referral = db.scalar(select(Referral))
    assert (referral.status, referral.duplicate_reason, referral.duplicate_of_partner_id) == (
        "duplicate", "email", known.id)


def test_an_open_referral_matches_by_domain_from_website_or_email(app, f, buyer, db):
    refer(buyer)
    other = app.test_client()
    sign_in(other, f.user())
    refer(other, company_name="Laka Delikatesy", email="office@sklep-laka.pl", website="")
    db.expire_all()
    first, second = db.scalars(select(Referral).order_by(Referral.id)).all()
    assert second.status == "duplicate" and second.duplicate_reason == "domain"
    assert second.duplicate_of_id == first.id


def test_free_mail_and_closed_referrals_do_not_make_duplicates(buyer, db):
    refer(buyer, email="anna@gmail.com", website="")
    db.execute(Referral.__table__.update().values(status="rejected"))
    db.commit()
    refer(buyer, idempotency_key="form-2", email="jan@gmail.com", website="")
    db.expire_all()
    assert db.scalars(select(Referral.status).order_by(Referral.id)).all() == ["rejected", "submitted"]


# --- the public form behind the link ------------------------------------------------------------------

PUBLIC = {**FORM, "referrer_name": "Jan Kowalski", "fax": ""}


def test_the_public_form_stores_a_referral_for_the_links_partner(app, f, db):
    partner = f.partner(name="Delikatesy Kowalski", referral_code="kowal001")
    client = app.test_client()
    page = client.get("/r/kowal001")
    assert page.status_code == 200 and "Delikatesy Kowalski invites you" in page.text
    response = client.post("/r/kowal001", data=PUBLIC)
    assert response.status_code == 302 and response.headers["Location"] == "/r/kowal001/thanks"
    assert "Thank you for your recommendation" in client.get("/r/kowal001/thanks").text
    referral = db.scalar(select(Referral))
    assert (referral.referrer_id, referral.source, referral.referrer_name) == (partner.id, "link", "Jan Kowalski")
    assert referral.submitted_by_id is None


def test_the_public_thanks_page_never_tells_whether_a_company_is_known(app, f, db):
    f.partner(name="Delikatesy Kowalski", referral_code="kowal001")
    f.partner(name="Sklep Łąka")
    client = app.test_client()
    client.post("/r/kowal001", data=PUBLIC)
    page = client.get("/r/kowal001/thanks").text
    assert "already known" not in page and "If the company is new to us" in page
    assert db.scalar(select(Referral.status)) == "duplicate"


def test_a_filled_honeypot_is_thanked_and_dropped(app, f, db):
    f.partner(referral_code="kowal001")
    response = app.test_client().post("/r/kowal001", data={**PUBLIC, "fax": "+1 555 0100"})
    assert response.status_code == 302 and response.headers["Location"] == "/r/kowal001/thanks"
    assert count(db) == 0


@pytest.mark.parametrize("status", ["paused", "churned"])
def test_an_unknown_or_disabled_code_is_not_found(app, f, db, status):
    f.partner(referral_code="gone0001", status=status)
    client = app.test_client()
    f.partner(referral_code="k" * 20)  # a live code of the longest length, typed with more after it
    for path in ("/r/nosuchcode", "/r/gone0001", "/r/gone0001/thanks", "/r/" + "k" * 20 + "zz"):
        assert client.get(path).status_code == 404
    assert client.post("/r/gone0001", data=PUBLIC).status_code == 404
    assert count(db) == 0


def test_the_public_form_needs_its_csrf_token(make_app, f):
    app = make_app(WTF_CSRF_ENABLED=True)
    f.partner(referral_code="kowal001")
    response = app.test_client().post("/r/kowal001", data=PUBLIC)
    assert response.status_code == 400
    assert "The form has expired or was not sent from this site." in response.text


def test_the_public_form_is_rate_limited_per_address(make_app, f, db):
    app = make_app(REFERRAL_RATE_LIMIT_IP="2 per hour", REFERRAL_RATE_LIMIT_CODE="100 per hour")
    f.partner(referral_code="kowal001")
    client = app.test_client()
    codes = [client.post("/r/kowal001", data={**PUBLIC, "idempotency_key": f"k{n}", "email": f"a{n}@x{n}.pl",
                                              "company_name": f"Shop {n}", "website": ""},
                         environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code for n in range(3)]
    assert codes == [302, 302, 429]
    refused = client.post("/r/kowal001", data=PUBLIC, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert refused.status_code == 429 and "Too many attempts" in refused.text
    assert count(db) == 2
    assert client.post("/r/kowal001", data=PUBLIC, environ_base={"REMOTE_ADDR": "10.0.0.2"}).status_code == 302


def test_the_public_form_is_rate_limited_per_link_from_any_address(make_app, f):
    app = make_app(REFERRAL_RATE_LIMIT_IP="100 per hour", REFERRAL_RATE_LIMIT_CODE="2 per hour")
    f.partner(referral_code="kowal001")
    f.partner(referral_code="other001")
    client = app.test_client()
    codes = [client.post("/r/kowal001", data={**PUBLIC, "idempotency_key": f"k{n}"},
                         environ_base={"REMOTE_ADDR": f"10.0.1.{n}"}).status_code for n in range(3)]
    assert codes == [302, 302, 429]
    assert client.post("/r/other001", data=PUBLIC).status_code == 302  # another link is not affected


def test_the_public_form_speaks_polish(app, f):
    f.partner(name="Delikatesy Kowalski", referral_code="kowal001")
    page = app.test_client().get("/r/kowal001", headers={"Accept-Language": "pl"}).text
    assert "Poleć sklep" in page


@pytest.mark.postgres
def test_the_same_public_form_sent_eight_times_at_once_is_one_referral(live_pg_app):
    import threading

    from tests.portal.factories import Factories

    app = live_pg_app
    with app.extensions["trellis.session_factory"]() as session:
        Factories(session).partner(referral_code="race0001")
    barrier, codes = threading.Barrier(8), []

    def send():
        client = app.test_client()
        barrier.wait()
        codes.append(client.post("/r/race0001", data={**PUBLIC, "idempotency_key": "same"}).status_code)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert codes == [302] * 8
    with app.extensions["trellis.session_factory"]() as session:
        assert session.scalar(select(func.count()).select_from(Referral)) == 1


@pytest.mark.postgres
def test_one_company_recommended_by_four_partners_at_once_is_one_open_referral(live_pg_app):
    """Different forms (different keys), the same company written four ways at the same moment:
    one referral to work on, three duplicates of it."""
    import threading

    from tests.portal.factories import Factories

    app = live_pg_app
    factory = app.extensions["trellis.session_factory"]
    with factory() as session:
        referrers = [Factories(session).partner() for _ in range(4)]
    barrier, errors = threading.Barrier(4), []
    ways = [("Sklep Łąka", "anna@laka.pl"), ("SKLEP ŁĄKA Sp. z o.o.", "biuro@laka.pl"),
            ("sklep laka", "jan@laka.pl"), ("Sklep Laka", "ewa@laka.pl")]

    def send(n):
        with app.app_context(), factory() as session:
            barrier.wait()
            try:
                name, email = ways[n]
                intake.submit(session, session.get(type(referrers[n]), referrers[n].id), intake.ReferralData(
                    company_name=name, contact_name="Anna", email=email, consent=True),
                    key=f"form-{n}", source="portal")
            except Exception as err:  # pragma: no cover - reported below
                errors.append(err)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    with factory() as session:
        statuses = sorted(session.scalars(select(Referral.status)))
        assert statuses == ["duplicate", "duplicate", "duplicate", "submitted"]


def test_a_signed_in_user_sends_a_limited_number_of_referrals_by_form_and_api_together(make_app, f):
    import re

    from tests.portal.helpers import bearer, issue, sign_in

    app = make_app(REFERRAL_RATE_LIMIT_USER="3 per hour")
    buyer = f.user()
    web = app.test_client()
    sign_in(web, buyer)
    codes = []
    for n in range(2):
        page = web.get("/referrals/new").text
        key = re.search(r'name="idempotency_key" type="hidden" value="(\w+)"', page).group(1)
        codes.append(web.post("/referrals/new", data={
            "company_name": f"Shop {n}", "contact_name": "Anna", "email": f"a@shop{n}.pl", "consent": "y",
            "idempotency_key": key}).status_code)
    api = app.test_client()
    token = issue(api, buyer)
    body = {"company_name": "Shop API", "contact_name": "Anna", "email": "a@shopapi.pl", "consent": True}
    codes.append(api.post("/api/v1/referrals", json=body,
                          headers={**bearer(token), "Idempotency-Key": "a1"}).status_code)
    refused = api.post("/api/v1/referrals", json={**body, "email": "b@shopapi.pl"},
                       headers={**bearer(token), "Idempotency-Key": "a2"})
    assert codes == [302, 302, 201] and refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "rate_limited"
    assert web.post("/referrals/new", data={"company_name": "X"}).status_code == 429
    assert web.get("/referrals/new").status_code == 200  # reading the form is not limited
    other = app.test_client()
    sign_in(other, f.user())
    assert other.get("/referrals/new").status_code == 200
