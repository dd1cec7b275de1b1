"""What a visitor can make the site spend on SMS: mobiles of SMS_COUNTRIES only, a few codes per number and network,
SMS_DAILY_BUDGET a day for everyone (the dpo told at 80 % and 100 %), then e-mail only."""

import http.client
import ipaddress
import re
from functools import partial
from urllib.parse import urlencode, urlsplit

import phonenumbers
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.auth.services import create_staff
from app.extensions import db
from app.newsletter.links import manage_token
from app.newsletter.models import PhoneProof
from app.sms.models import SmsMessage, SmsStatus
from app.sms.services import InvalidSms, deliver_due, queue_sms
from tests.conftest import deliver_mail, submit_form
from tests.support.live import LiveServer, all_at_once
from tests.support.newsletter import confirmed_subscriber, subscribe
from tests.support.rights import STAFF_PASSWORD, staff_client
from tests.test_sms_sending import ACCOUNT, SECRET, SENDER, SITE, texted, twilio_accepts

PAUSED = "La vérification des numéros par SMS est suspendue"
NOT_MOBILE = "qu’aux numéros de mobile de France métropolitaine et d’outre-mer"
REFUSED_NUMBERS = ["+33 8 91 23 45 67", "08 99 12 34 56", "+1 900 555 1234", "+44 7911 123456", "+49 151 23456789",
                   "01 40 00 00 00", "0800 12 34 56", "0810 12 34 56", "+44 871 234 5678"]


@pytest.fixture
def proxied_app(make_app, httpserver):
    """The site behind one trusted proxy (X-Forwarded-For), texting through the loopback Twilio API."""
    twilio_accepts(httpserver)
    app = make_app(TRUSTED_PROXY_COUNT=1, TWILIO_ACCOUNT_SID=ACCOUNT, TWILIO_AUTH_TOKEN=SECRET,
                   SMS_WEBHOOK_SECRET=SECRET, TWILIO_FROM=SENDER, SMS_STOP_NUMBER=SENDER, SITE_URL=SITE,
                   TWILIO_API_URL=httpserver.url_for("/").rstrip("/"))
    with app.app_context():
        yield app


def ask_code(client, index: int, phone: str, address: str):
    """The newsletter form sent with a number, from a client address as the proxy reports it."""
    return client.post("/newsletter", data={"form": "subscribe", "email": f"v{index}@example.com", "phone": phone,
                                            "lists": ["evenements"], "consent": "y"},
                       headers={"X-Forwarded-For": address})


def codes() -> int:
    """Codes texted so far."""
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(PhoneProof))


def client_address(index: int) -> str:
    """The index-th of a thousand visitors: IPv4 anywhere, IPv6 in many /48s, some behind a proxy saying « unknown »."""
    if index % 10 == 9:
        return "unknown"
    if index % 2:
        return str(ipaddress.IPv6Address("2001:db8::") + (index << 80) + index)
    return str(ipaddress.IPv4Address("10.0.0.0") + (index << 8) + 1)


def number(index: int) -> str:
    """A French mobile number, or every seventh a premium-rate, foreign or fixed one."""
    return REFUSED_NUMBERS[index % len(REFUSED_NUMBERS)] if index % 7 == 0 else f"+3367{index:07d}"


@pytest.mark.parametrize("phone", REFUSED_NUMBERS)
def test_a_premium_rate_foreign_or_fixed_number_is_refused_with_a_message(client, phone):
    response = subscribe(client, "p@example.com", ["evenements"], phone=phone)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and NOT_MOBILE in page
    assert f'value="{phone}"' in page and 'value="p@example.com"' in page, "the visitor's typing is kept"
    assert codes() == 0 and db.session.scalar(sa.select(sa.func.count()).select_from(SmsMessage)) == 0


@pytest.mark.parametrize("phone", ["06 12 34 56 78", "+590 690 12 34 56", "+262 692 12 34 56", "+687 75 12 34"])
def test_mobiles_of_france_and_its_overseas_territories_get_a_code(client, phone):
    assert subscribe(client, "m@example.com", ["evenements"], phone=phone).status_code == 303
    assert codes() == 1


def test_the_countries_are_a_setting(make_app):
    app = make_app(SMS_COUNTRIES=("BE",))
    with app.app_context():
        client = app.test_client()
        assert subscribe(client, "f@example.com", ["evenements"], phone="06 12 34 56 78").status_code == 400
        assert subscribe(client, "b@example.com", ["evenements"], phone="+32 470 12 34 56").status_code == 303
        assert codes() == 1


def test_no_sms_is_queued_or_handed_to_twilio_for_a_number_that_is_not_a_french_mobile(proxied_app, httpserver):
    with pytest.raises(InvalidSms):
        queue_sms("+33891234567", "Bonjour")
    db.session.add(SmsMessage(recipient="+447911123456", body="Bonjour", status=SmsStatus.PENDING))
    db.session.commit()
    report = deliver_due()
    assert report.cancelled == 1 and report.sent == 0 and texted(httpserver) == []


def test_ipv6_is_counted_per_64_and_grouped_per_48(proxied_app):
    client = proxied_app.test_client()
    for index in range(8):  # one household rotating its addresses
        ask_code(client, index, f"+3361100{index:04d}", f"2001:db8:1:1::{index + 1:x}")
    assert codes() == 5
    for index in range(20):  # a site rotating its /64s
        ask_code(client, 100 + index, f"+3361200{index:04d}", f"2001:db8:2:{index:x}::1")
    assert codes() == 5 + 10


@pytest.mark.parametrize("address", ["unknown", "_hidden", "999.0.0.1", "203.0.113.9, unknown"])
def test_client_addresses_that_are_not_ips_share_one_small_allowance(proxied_app, address):
    client = proxied_app.test_client()
    for index in range(6):
        ask_code(client, index, f"+3361300{index:04d}", address if index % 2 else "unknown")
    assert codes() == 3


def test_a_thousand_visitors_trigger_at_most_the_daily_budget_and_nothing_to_premium_or_foreign_numbers(
        proxied_app, httpserver, mailbox):
    create_staff("dpo@k-inventory.com", STAFF_PASSWORD, "dpo")
    db.session.commit()
    client = proxied_app.test_client()
    answers = [ask_code(client, index, number(index), client_address(index)) for index in range(1000)]
    budget = proxied_app.config["SMS_DAILY_BUDGET"]
    assert budget == 200 and codes() == budget
    assert PAUSED in answers[-2].get_data(as_text=True) and answers[-2].status_code == 400
    while deliver_due().sent:
        pass
    sent = [message["To"] for message in texted(httpserver)]
    assert len(sent) == budget
    for to in sent:
        parsed = phonenumbers.parse(to)
        assert phonenumbers.region_code_for_number(parsed) == "FR"
        assert phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.MOBILE
    deliver_mail()
    alerts = [m for m in mailbox.messages if m["To"] == "dpo@k-inventory.com"]
    assert [m["Subject"] for m in alerts] == ["Budget SMS du jour\u00a0: 80\u00a0% atteint",
                                              "Budget SMS du jour\u00a0: 100\u00a0% atteint"]
    assert "160 codes" in alerts[0].get_content() and "200 codes" in alerts[1].get_content()


def test_once_the_budget_is_spent_the_form_offers_e_mail_and_keeps_the_typing(make_app, mailbox):
    app = make_app(SMS_DAILY_BUDGET=1)
    with app.app_context():
        client = app.test_client()
        assert subscribe(client, "a@example.com", ["evenements"], phone="06 12 34 56 78").status_code == 303
        response = subscribe(client, "b@example.com", ["evenements"], phone="06 98 76 54 32")
        page = response.get_data(as_text=True)
        assert response.status_code == 400 and PAUSED in page and 'value="b@example.com"' in page
        assert subscribe(client, "b@example.com", ["evenements"]).status_code == 303, "e-mail alone still works"
        assert codes() == 1


def test_the_dashboard_shows_codes_sent_today_against_the_budget(client, app):
    for index in range(3):
        subscribe(client, f"d{index}@example.com", ["evenements"], phone=f"+3361400{index:04d}")
    page = staff_client(app, "dpo").get("/admin/tableau-de-bord").get_data(as_text=True)
    text = re.sub(r"\s+", " ", page)
    assert "3 codes envoyés sur un budget de 200 par jour" in text


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(phone=st.text(max_size=40), address=st.text(max_size=60))
def test_any_number_and_client_address_get_an_answer_and_never_a_code_to_a_non_mobile(proxied_app, phone, address):
    client = proxied_app.test_client()
    try:
        response = ask_code(client, 0, phone, address)
    except ValueError:  # a header value the HTTP client itself refuses to send (line breaks)
        return
    assert response.status_code in (303, 400, 429)
    for to in db.session.scalars(sa.select(SmsMessage.recipient)):
        assert phonenumbers.number_type(phonenumbers.parse(to)) == phonenumbers.PhoneNumberType.MOBILE


def test_requests_released_together_never_pass_the_budget(make_app, httpserver):
    app = make_app(SMS_DAILY_BUDGET=3, RATELIMIT_ENABLED=False, TRUSTED_PROXY_COUNT=1)
    server = LiveServer(app)
    with app.app_context():
        server.start()
        try:
            def post(index: int) -> None:
                connection = http.client.HTTPConnection(urlsplit(server.url).netloc, timeout=30)
                connection.request("POST", "/newsletter", body=urlencode({
                    "form": "subscribe", "email": f"r{index}@example.com", "phone": f"+3361500{index:04d}",
                    "lists": "evenements", "consent": "y"}), headers={
                    "Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-For": f"192.0.2.{index + 1}"})
                connection.getresponse().read()
                connection.close()

            all_at_once([partial(post, index) for index in range(12)])
        finally:
            server.stop()
        assert codes() == 3


def test_a_new_number_in_the_preference_centre_waits_for_tomorrow_once_the_budget_is_spent(client, mailbox, app):
    person = confirmed_subscriber(client, mailbox, "pref@example.com", ["evenements"])
    app.config["SMS_DAILY_BUDGET"] = codes()
    url = f"/newsletter/preferences/{manage_token(person.public_id, 'evenements')}"
    response = submit_form(client, url, {"action": "save", "email_on": "y", "lists": ["evenements"], "sms_on": "y",
                                         "phone": "06 12 34 56 78"}, follow_redirects=True)
    page = re.sub(r"\s+", " ", response.get_data(as_text=True))
    assert "Vos préférences sont enregistrées" in page and "suspendue pour aujourd’hui" in page
    assert codes() == 0
