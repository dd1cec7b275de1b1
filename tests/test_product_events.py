"""The product's signed events (account closed, customer activity) and the opt-out check it asks, each signed with
the official Standard Webhooks library."""

import base64
import json
import secrets
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook

from app.connectors.models import ConnectorCall
from app.connectors.services import deliver_due
from app.extensions import db
from app.newsletter.models import Subscriber
from app.product.models import AccountClosure, ClientActivity, ProductEvent
from app.product.retention import ask_lapsed_clients, end_lapsed_clients
from app.rights.models import Kind, RightsRequest
from app.suppression.models import Channel
from app.suppression.services import is_suppressed, suppress
from tests.conftest import csrf_token, deliver_mail
from tests.support.newsletter import confirmed_subscriber, subscriber
from tests.support.pages import vnu_errors
from tests.support.rights import confirmed_request, send_request, staff_action, staff_client

EMAIL = "claire@example.fr"


def new_secret() -> str:
    """A Standard Webhooks secret."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


@pytest.fixture
def product_secret(app):
    """The product's signing secret, set for this test."""
    app.config["PRODUCT_WEBHOOK_SECRET"] = secret = new_secret()
    return secret


def signed(secret: str, body: dict, *, webhook_id: str | None = None, age: int = 0) -> tuple[str, dict]:
    """A body and its Standard Webhooks headers, made by the official library."""
    data = json.dumps(body)
    moment = datetime.now(UTC) - timedelta(seconds=age)
    webhook_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    return data, {"webhook-id": webhook_id, "webhook-timestamp": str(int(moment.timestamp())),
                  "webhook-signature": Webhook(secret).sign(webhook_id, moment, data)}


def send_event(client, secret: str, kind: str, data: dict, **kwargs):
    """POST one product event."""
    body, headers = signed(secret, {"type": kind, "timestamp": datetime.now(UTC).isoformat(), "data": data}, **kwargs)
    return client.post("/webhooks/product", data=body, headers=headers, content_type="application/json")


@pytest.fixture
def erasing_system(runner, httpserver):
    """The CRM, declared on a loopback server, erasing on request."""
    secret = new_secret()
    result = runner.invoke(args=["connectors", "add", "crm", "--url", httpserver.url_for("/crm"), "--secret", secret,
                                 "--types", "erasure,objection"])
    assert result.exit_code == 0, result.output
    httpserver.expect_request("/crm").respond_with_json({"ok": True})
    return secret


def test_account_closed_erases_here_asks_the_systems_with_the_due_date_and_keeps_the_opt_out(
        app, client, mailbox, product_secret, erasing_system, httpserver):
    confirmed_subscriber(client, mailbox, EMAIL)
    suppress(Channel.CALL, phone="06 12 34 56 78", source="test")
    db.session.commit()

    answer = send_event(client, product_secret, "account.closed",
                        {"email": EMAIL.upper(), "phone": "06 12 34 56 78", "closed_at": "2026-01-31T10:00:00Z"})

    assert answer.status_code == 200 and answer.json == {"ok": True, "replay": False}
    assert subscriber(EMAIL) is None
    assert is_suppressed(Channel.CALL, phone="+33612345678")
    closure = db.session.scalar(sa.select(AccountClosure))
    assert (closure.active_due_on, closure.backups_due_on) == (date(2026, 2, 28), date(2026, 5, 28))
    assert deliver_due().sent == 1
    sent = [Webhook(erasing_system).verify(r.get_data(), dict(r.headers)) for r, _ in httpserver.log]
    assert sent[0]["type"] == "erasure" and sent[0]["email"] == EMAIL and sent[0]["due_on"] == "2026-02-28"
    assert sent[0]["phone"] == "+33612345678"


def test_closure_cases_page_shows_who_confirmed_and_what_is_late(app, client, product_secret, erasing_system):
    send_event(client, product_secret, "account.closed", {"email": EMAIL, "closed_at": "2025-01-10T08:00:00+01:00"})
    deliver_due()
    staff = staff_client(app)

    late = staff.get("/admin/clotures").get_data(as_text=True)
    reference = db.session.scalar(sa.select(RightsRequest.reference))
    body, headers = signed(erasing_system, {"reference": reference, "status": "done", "erased": 3})
    client.post("/webhooks/connectors/crm", data=body, headers=headers, content_type="application/json")
    confirmed = staff.get("/admin/clotures").get_data(as_text=True)

    assert EMAIL in late and reference in late and "crm" in late and "n’a pas confirmé" in late
    assert "confirmé le" in confirmed and "n’a pas confirmé" not in confirmed


def test_duplicates_and_replays_change_nothing(app, client, product_secret):
    data = {"email": EMAIL, "closed_at": "2026-03-01T00:00:00Z"}
    first = send_event(client, product_secret, "account.closed", data, webhook_id="msg_same")
    again = send_event(client, product_secret, "account.closed", data, webhook_id="msg_same")

    assert first.json["replay"] is False and again.status_code == 200 and again.json["replay"] is True
    assert db.session.scalar(sa.select(sa.func.count(AccountClosure.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(ProductEvent.id))) == 1


@pytest.mark.parametrize(("kind", "data", "reason"), [
    ("account.deleted", {"email": EMAIL}, "unknown event type 'account.deleted'"),
    ("account.closed", {"email": "nobody", "closed_at": "2026-01-01T00:00:00Z"}, "email must be an e-mail address"),
    ("account.closed", {"email": EMAIL, "closed_at": "hier"}, "closed_at must be an ISO 8601"),
    ("account.closed", {"email": EMAIL, "closed_at": "2026-01-01T00:00:00"}, "closed_at must carry its offset"),
    ("account.closed", {"email": EMAIL, "phone": "12", "closed_at": "2026-01-01T00:00:00Z"}, "phone must be"),
    ("customer.activity", {"email": EMAIL, "last_activity_at": "2999-01-01T00:00:00Z"}, "in the future"),
])
def test_bad_events_get_400_with_the_reason_and_change_nothing(app, client, product_secret, kind, data, reason):
    answer = send_event(client, product_secret, kind, data)

    assert answer.status_code == 400 and reason in answer.json["error"]
    assert db.session.scalar(sa.select(sa.func.count(ProductEvent.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(RightsRequest.id))) == 0


def test_forged_or_stale_events_are_refused(app, client, product_secret):
    data = {"email": EMAIL, "closed_at": "2026-01-01T00:00:00Z"}
    assert send_event(client, new_secret(), "account.closed", data).status_code == 401
    assert send_event(client, product_secret, "account.closed", data, age=3600).status_code == 401
    assert db.session.scalar(sa.select(sa.func.count(AccountClosure.id))) == 0


def test_activity_moves_the_client_period_forward_only(app, client, product_secret):
    for moment in ("2025-06-01T00:00:00Z", "2025-09-01T00:00:00Z", "2025-07-01T00:00:00Z"):
        assert send_event(client, product_secret, "customer.activity",
                          {"email": EMAIL, "last_activity_at": moment}).status_code == 200

    held = db.session.scalar(sa.select(ClientActivity))
    assert held.last_activity_at == datetime(2025, 9, 1, tzinfo=UTC)


def test_lapsed_client_is_asked_then_without_answer_deleted_and_the_systems_told(
        app, client, mailbox, product_secret, erasing_system, httpserver):
    confirmed_subscriber(client, mailbox, EMAIL)
    subscribed_long_ago(EMAIL)
    send_event(client, product_secret, "customer.activity", {"email": EMAIL, "last_activity_at": "2022-01-01T00:00Z"})
    now = datetime.now(UTC)

    assert ask_lapsed_clients(now).acted == 1
    db.session.commit()
    assert any("continuer à recevoir" in m["Subject"] for m in deliver_and_read(mailbox, EMAIL))
    assert end_lapsed_clients(now + timedelta(days=31)).acted == 1
    db.session.commit()

    assert subscriber(EMAIL) is None and db.session.scalar(sa.select(ClientActivity)) is None
    told = db.session.scalar(sa.select(ConnectorCall))
    assert told.request_type == "objection" and told.payload["email"] == EMAIL
    assert db.session.scalar(sa.select(RightsRequest)).kind == Kind.OBJECTION


def subscribed_long_ago(email: str) -> None:
    """Date the subscriber's consent (and record) back to 2022: no contact since."""
    db.session.execute(sa.update(Subscriber).where(Subscriber.email == email).values(
        email_consent_at=datetime(2022, 1, 1, tzinfo=UTC), created_at=datetime(2022, 1, 1, tzinfo=UTC)))
    db.session.commit()


def test_a_lapsed_client_who_subscribed_since_is_neither_asked_nor_deleted(app, client, mailbox, product_secret):
    confirmed_subscriber(client, mailbox, EMAIL)  # consent given today: a contact, the three years run from it
    send_event(client, product_secret, "customer.activity", {"email": EMAIL, "last_activity_at": "2022-01-01T00:00Z"})
    now = datetime.now(UTC)

    assert ask_lapsed_clients(now).acted == 0
    assert end_lapsed_clients(now + timedelta(days=31)).acted == 0
    db.session.commit()

    assert subscriber(EMAIL) is not None
    assert not any("continuer à recevoir" in m["Subject"] for m in deliver_and_read(mailbox, EMAIL))
    assert db.session.scalar(sa.select(ConnectorCall)) is None


def deliver_and_read(mailbox, address: str) -> list:
    """Send the outbox and return the messages the SMTP sink got for the address."""
    deliver_mail()
    return [message for message in mailbox.messages if address in message["To"]]


def check(client, secret: str, body: dict):
    """POST a signed opt-out check."""
    data, headers = signed(secret, body)
    return client.post("/api/opt-out/check", data=data, headers=headers, content_type="application/json")


def test_a_phone_opt_out_answers_no_to_the_check(app, client, product_secret):
    suppress(Channel.CALL, phone="0612345678", source="test")
    suppress(Channel.POST, address="12, rue de l'Église\n75001 Paris", source="test")
    db.session.commit()

    answer = check(client, product_secret, {"contacts": [
        {"phone": "+33 6 12 34 56 78"}, {"phone": "06 98 76 54 32"}, {"address": "12 RUE DE L’ÉGLISE 75001 PARIS"},
        {"address": "1 avenue Foch 75116 Paris"}, {"phone": "12"}, {"email": EMAIL}]})

    assert answer.status_code == 200
    assert answer.json["results"][:4] == [{"may_call": False}, {"may_call": True}, {"may_post": False},
                                          {"may_post": True}]
    assert "error" in answer.json["results"][4] and "error" in answer.json["results"][5]
    assert check(client, product_secret, {"phone": "0612345678"}).json["results"] == [{"may_call": False}]


def test_the_check_refuses_forged_questions_and_big_batches(app, client, product_secret):
    assert check(client, new_secret(), {"phone": "0612345678"}).status_code == 401
    big = check(client, product_secret, {"contacts": [{"phone": "0612345678"}] * 1001})
    assert big.status_code == 413 and "1000" in big.json["error"]
    assert check(client, product_secret, {"contacts": [{"phone": "0612345678"}] * 1000}).status_code == 200


def test_a_full_batch_of_postal_addresses_is_answered(app, client, product_secret):
    addresses = [{"address": f"Résidence des Tilleuls, bâtiment B, appartement {number}, 12 avenue de la "
                             f"République prolongée, 69{number % 1000:03d} Villeurbanne"} for number in range(1000)]
    answer = check(client, product_secret, {"contacts": addresses})
    assert answer.status_code == 200, answer.get_data(as_text=True)[:200]
    assert len(answer.json["results"]) == 1000


def test_staff_record_a_postal_opt_out(app, client):
    staff = staff_client(app)
    page = staff.get("/admin/opposition").get_data(as_text=True)
    typed = "3 place Bellecour"
    refused = staff.post("/admin/opposition", data={"csrf_token": csrf_token(page), "channel": "post",
                                                    "identifier": typed})
    assert refused.status_code == 400 and "code postal" in refused.get_data(as_text=True)
    assert typed in refused.get_data(as_text=True)

    done = staff.post("/admin/opposition", data={"csrf_token": csrf_token(page), "channel": "post",
                                                 "identifier": "3, place Bellecour, 69002 Lyon"})

    assert done.status_code == 303
    assert is_suppressed(Channel.POST, address="3 PLACE BELLECOUR 69002 LYON")
    assert not db.session.scalar(sa.select(Subscriber))


def test_an_objection_sent_from_the_contact_form_stops_calls_and_post(app, client, mailbox):
    refused = send_request(client, EMAIL, "objection", phone="06 12 34 56 78", postal_address="5 rue Neuve")
    assert refused.status_code == 400 and "code postal" in refused.get_data(as_text=True)
    assert "5 rue Neuve" in refused.get_data(as_text=True)
    reference = confirmed_request(client, mailbox, EMAIL, "objection", phone="06 12 34 56 78",
                                  postal_address="5, rue Neuve\n33000 Bordeaux").reference

    assert staff_action(staff_client(app), reference, "opposition").status_code == 303

    assert is_suppressed(Channel.CALL, phone="+33612345678")
    assert is_suppressed(Channel.POST, address="5 RUE NEUVE 33000 BORDEAUX")


JSON_VALUES = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=40),
                        st.sampled_from(["2026-01-01T00:00:00Z", "9999-12-31T23:59:59-01:00",
                                         "0001-01-01T00:00:00+01:00", "claire@example.fr", "06 12 34 56 78",
                                         "a\x00@example.fr"]))


@given(kind=st.sampled_from(["account.closed", "customer.activity", "other"]),
       data=st.dictionaries(st.sampled_from(["email", "phone", "closed_at", "last_activity_at"]), JSON_VALUES))
def test_any_signed_event_is_taken_or_refused_with_a_reason(app, client, product_secret, kind, data):
    answer = send_event(client, product_secret, kind, data)

    assert answer.status_code in (200, 400)
    assert answer.json["ok"] is (answer.status_code == 200)


@given(st.lists(st.dictionaries(st.sampled_from(["phone", "address", "email"]), JSON_VALUES), min_size=1,
                max_size=5))
def test_any_signed_check_gets_one_answer_per_contact(app, client, product_secret, contacts):
    answer = check(client, product_secret, {"contacts": contacts})

    assert answer.status_code == 200 and len(answer.json["results"]) == len(contacts)


@given(channel=st.sampled_from(["call", "post", "sms", ""]), identifier=st.text(max_size=320))
def test_the_staff_opt_out_form_keeps_the_typing_or_records(app, staff, channel, identifier):
    page = staff.get("/admin/opposition").get_data(as_text=True)
    answer = staff.post("/admin/opposition", data={"csrf_token": csrf_token(page), "channel": channel,
                                                   "identifier": identifier})

    assert answer.status_code in (303, 400)


@pytest.fixture
def staff(app):
    """A logged-in staff member."""
    return staff_client(app)


def test_the_new_pages_are_valid_html(app, client, mailbox, product_secret, erasing_system, tmp_path):
    send_event(client, product_secret, "account.closed", {"email": EMAIL, "closed_at": "2025-01-10T08:00:00Z"})
    deliver_due()
    staff = staff_client(app)
    refused = staff.post("/admin/opposition", data={"csrf_token": csrf_token(staff.get("/admin/opposition").get_data(
        as_text=True)), "channel": "post", "identifier": "3 place Bellecour"})
    pages = {"closures.html": staff.get("/admin/clotures").data, "opt_out.html": refused.data,
             "contact.html": send_request(client, EMAIL, "objection", postal_address="5 rue Neuve").data}

    assert vnu_errors(pages, tmp_path) == []
