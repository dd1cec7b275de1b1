"""The preference centre and the back-office show the SMS channel: proven, consented, opted out, how and when."""

import uuid

from twilio.request_validator import RequestValidator

from app.newsletter.routes import manage_token_for
from tests.support.newsletter import confirmed_subscriber, subscriber
from tests.support.rights import confirmed_request, staff_client

SECRET = "twilio-auth-token-for-tests-0123456789"
SITE = "https://www.k-inventory.com"
EMAIL, NUMBER = "jeanne@example.fr", "+33612345678"


def send_stop(app) -> None:
    """STOP from the number, signed as Twilio signs it."""
    params = {"MessageSid": "SM" + uuid.uuid4().hex, "From": NUMBER, "To": "+33700000000", "Body": "STOP"}
    signature = RequestValidator(SECRET).compute_signature(SITE + "/webhooks/sms", params)
    app.test_client().post("/webhooks/sms", data=params, headers={"X-Twilio-Signature": signature})


def test_the_preference_centre_shows_how_the_number_was_proven_and_when_it_said_stop(make_app, mailbox):
    app = make_app(SMS_WEBHOOK_SECRET=SECRET, SITE_URL=SITE)
    with app.app_context():
        client = app.test_client()
        confirmed_subscriber(client, mailbox, EMAIL, ["evenements"], phone=NUMBER)
        url = f"/newsletter/preferences/{manage_token_for(subscriber(EMAIL))}"
        html = client.get(url).get_data(as_text=True)
        assert "Numéro vérifié" in html and "code reçu par SMS et saisi sur le site" in html
        assert "donné le" in html and "Opposition" in html and "aucune" in html
        send_stop(app)
        html = client.get(url).get_data(as_text=True)
        assert "réponse à un SMS" in html and "numéro sur la liste d’opposition" in html and "aucun en cours" in html


def test_the_back_office_shows_the_sms_state_of_the_requester(app, client, mailbox):
    confirmed_subscriber(client, mailbox, EMAIL, ["evenements"], phone="06 12 34 56 78")
    reference = confirmed_request(client, mailbox, kind="access", phone="06 12 34 56 78").reference
    html = staff_client(app).get(f"/admin/demandes/{reference}").get_data(as_text=True)
    assert "Consentement aux SMS" in html and "code reçu par SMS et saisi sur le site" in html
    assert NUMBER in html
