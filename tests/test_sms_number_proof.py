"""Number proof: SMS consent only after the 6-digit code (or START); an anonymous form never changes a known person."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.newsletter.campaigns import sms_audience
from app.newsletter.models import PhoneProof
from app.sms.models import SmsMessage
from tests.conftest import submit_form
from tests.support.newsletter import (
    confirm_by_mail,
    confirmed_subscriber,
    path_of,
    prove_number,
    sms_code,
    subscribe,
    subscriber,
)

NUMBER, STRANGER = "+33612345678", "+33698765432"
CODE_PAGE = "/newsletter/code-sms"


def sms_to(number: str) -> list[str]:
    """The bodies of the SMS queued for a number."""
    db.session.expire_all()
    return list(db.session.scalars(sa.select(SmsMessage.body).where(SmsMessage.recipient == number)))


def type_code(client, code: str):
    """Type a code on the code page."""
    return submit_form(client, CODE_PAGE, {"code": code})


def test_a_number_gets_a_code_and_sms_consent_only_once_it_is_typed(client, mailbox, policy):
    response = subscribe(client, "p@example.com", ["evenements"], phone="06 12 34 56 78")
    assert response.status_code == 303 and response.headers["Location"].endswith(CODE_PAGE)
    page = client.get(CODE_PAGE).get_data(as_text=True)
    assert "code à 6 chiffres" in page and "10\u00a0minutes" in page
    [body] = sms_to(NUMBER)
    assert body.startswith("K-Inventory : votre code de vérification est ") and "10 minutes" in body
    person = subscriber("p@example.com")
    assert person.sms_status != "confirmed" and person.sms_consent_at is None and person.sms_proven_at is None
    answer = prove_number(client, NUMBER)
    assert answer.status_code == 200 and "ce numéro est vérifié" in answer.get_data(as_text=True)
    person = subscriber("p@example.com")
    assert person.phone == NUMBER and person.sms_status == "confirmed"
    assert person.sms_consent_source == "sms_code" and person.sms_proof_source == "sms_code"
    assert person.sms_consent_at is not None and person.sms_consent_policy == policy.number
    confirm_by_mail(client, mailbox, "p@example.com")
    assert sms_audience() == [NUMBER]


def test_a_strangers_number_confirmed_by_the_e_mail_link_alone_gets_no_sms_consent(client, mailbox):
    subscribe(client, "me@example.com", ["evenements"], phone=STRANGER)
    confirm_by_mail(client, mailbox, "me@example.com")
    person = subscriber("me@example.com")
    assert person.email_status == "confirmed" and person.sms_status != "confirmed"
    assert person.sms_consent_source is None and person.phone is None
    assert sms_audience() == []


def test_the_code_is_kept_as_a_keyed_hash_only(client):
    subscribe(client, "h@example.com", ["evenements"], phone=NUMBER)
    proof = db.session.scalar(sa.select(PhoneProof))
    code = sms_code(NUMBER)
    assert code not in proof.code_hash and len(proof.code_hash) == 64


def test_five_wrong_tries_kill_the_code(client):
    subscribe(client, "t@example.com", ["evenements"], phone=NUMBER)
    good = sms_code(NUMBER)
    wrong = f"{(int(good) + 1) % 10 ** 6:06d}"
    for _ in range(4):
        response = type_code(client, wrong)
        assert response.status_code == 400 and "pas le bon" in response.get_data(as_text=True)
    assert "n’est plus valable" in type_code(client, wrong).get_data(as_text=True)
    response = type_code(client, good)
    assert response.status_code == 400 and "n’est plus valable" in response.get_data(as_text=True)
    assert subscriber("t@example.com").sms_status != "confirmed"


def test_a_code_lapses_after_ten_minutes(client):
    subscribe(client, "x@example.com", ["evenements"], phone=NUMBER)
    proof = db.session.scalar(sa.select(PhoneProof))
    assert proof.expires_at - proof.created_at == timedelta(minutes=10)
    proof.expires_at = proof.created_at - timedelta(seconds=1)
    db.session.commit()
    response = prove_number(client, NUMBER)
    assert response.status_code == 400 and subscriber("x@example.com").sms_status != "confirmed"


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef"])
def test_a_code_that_is_not_six_digits_is_refused_with_a_message(client, code):
    response = type_code(client, code)
    assert response.status_code == 400 and "6 chiffres" in response.get_data(as_text=True)


def test_codes_are_rate_limited_per_number_and_per_network(app):
    from app.newsletter.services import request_subscription

    for index in range(4):
        request_subscription(f"n{index}@example.com", ["evenements"], phone=NUMBER,
                             client_address=f"198.51.{index}.7")
    assert len(sms_to(NUMBER)) == 3, "three codes an hour to one number"
    for index in range(11):
        request_subscription(f"ip{index}@example.com", ["evenements"], phone=f"+3361122{index:04d}",
                             client_address=f"203.0.113.{index}")
    sent = db.session.scalar(sa.select(sa.func.count()).select_from(SmsMessage))
    assert sent == 3 + 10, "ten codes an hour to one network"


def test_an_anonymous_post_never_changes_a_known_subscriber(client, mailbox):
    confirmed_subscriber(client, mailbox, "k@example.com", ["actualites-produit"], phone=NUMBER)
    stranger = client.application.test_client()
    response = submit_form(stranger, "/en/newsletter", {"form": "subscribe", "email": "k@example.com",
                                                        "phone": STRANGER, "lists": ["evenements"], "consent": "y"})
    assert response.status_code == 303
    assert sms_to(STRANGER), "a code goes out as for an unknown address"
    assert prove_number(stranger, STRANGER, url="/en/newsletter/sms-code").status_code == 200
    person = subscriber("k@example.com")
    assert person.phone == NUMBER and person.language == "fr" and person.sms_status == "confirmed"
    assert person.slugs_with("active") == ["actualites-produit"] and person.slugs_with("pending") == []
    assert sms_audience() == [NUMBER]


def test_the_answer_is_the_same_for_a_known_and_an_unknown_address_with_a_number(make_app, mailbox):
    app = make_app()
    with app.app_context():
        confirmed_subscriber(app.test_client(), mailbox, "known@example.com")
        answers = []
        for address, number in (("known@example.com", NUMBER), ("unknown@example.com", STRANGER)):
            visitor = app.test_client()
            response = subscribe(visitor, address, ["evenements"], phone=number)
            page = visitor.get(path_of(response.headers["Location"]))
            answers.append((response.status_code, response.headers["Location"], page.status_code,
                            len(sms_to(number))))
        assert answers[0] == answers[1]


def test_the_preference_centre_adds_a_number_through_a_code(client, mailbox):
    confirmed_subscriber(client, mailbox, "pc@example.com", ["evenements"])
    from app.newsletter.routes import manage_token_for

    url = f"/newsletter/preferences/{manage_token_for(subscriber('pc@example.com'))}"
    response = submit_form(client, url, {"email_on": "y", "lists": ["evenements"], "sms_on": "y", "phone": "0612345678",
                                         "action": "save"})
    assert response.status_code == 303 and response.headers["Location"].endswith(CODE_PAGE)
    assert subscriber("pc@example.com").sms_status != "confirmed"
    assert prove_number(client, NUMBER).status_code == 200
    person = subscriber("pc@example.com")
    assert person.phone == NUMBER and person.sms_status == "confirmed" and person.sms_consent_source == "sms_code"


def test_the_code_page_in_english(client):
    html = client.get("/en/newsletter/sms-code").get_data(as_text=True)
    assert '<html lang="en">' in html and "6-digit code" in html
