"""One-click unsubscribe on every marketing-like mail, the re-permission question included, signed by DKIM; a
Feedback-ID on campaigns; transactional mail without either."""

import email
import re
from urllib.parse import urlsplit

import sqlalchemy as sa

from app.extensions import db
from app.mail.models import OutboxMessage
from app.mail.services import deliver_due, queue_mail
from app.newsletter.campaigns import send_campaign
from tests.support.newsletter import confirmed_subscriber, subscriber
from tests.test_mail_dkim import key as key  # noqa: F401 (the fixture)
from tests.test_mail_dkim import signing_app as signing_app  # noqa: F401 (the fixture)
from tests.test_mail_dkim import verified
from tests.test_retention import YEAR, acted, age, run

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


def signed_fields(raw: bytes, key) -> set[str]:
    """The header fields the message's DKIM signature covers, after checking it with the published key."""
    verifier = verified(raw, key)
    return {name.decode().lower() for name in verifier.include_headers}


def only_raw(mailbox, address: str, subject_part: str) -> bytes:
    """The raw bytes of the one message received for the address whose subject has those words."""
    found = [raw for raw in mailbox.raw_to(address) if subject_part in str(email.message_from_bytes(raw)["Subject"])]
    assert len(found) == 1, f"{len(found)} messages"
    return found[0]


def test_the_repermission_question_has_a_signed_one_click_unsubscribe(signing_app, key, mailbox):
    client = signing_app.test_client()
    confirmed_subscriber(client, mailbox, "silencieux@example.com", ["evenements", "actualites-produit"])
    age("silencieux@example.com", 3 * YEAR)
    assert acted(run(signing_app.test_cli_runner()), "newsletter_relance") == 1
    deliver_due()
    raw = only_raw(mailbox, "silencieux@example.com", "continuer")
    message = email.message_from_bytes(raw)
    [target] = re.findall(r"<(https://[^>]+)>", message["List-Unsubscribe"])
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Feedback-ID"].startswith("repermission:")
    assert {"list-unsubscribe", "list-unsubscribe-post", "feedback-id"} <= signed_fields(raw, key)
    stranger = signing_app.test_client()  # a mail provider: no cookie, no page read first
    assert stranger.post(urlsplit(target).path, data=ONE_CLICK).status_code == 200
    db.session.expire_all()
    assert subscriber("silencieux@example.com").slugs_with("active") == []


def test_campaign_mail_carries_a_signed_feedback_id(signing_app, key, mailbox):
    client = signing_app.test_client()
    confirmed_subscriber(client, mailbox, "lecteur@example.com", ["evenements"])
    report = send_campaign("evenements", "Salon de Lyon", "Bonjour.\n")
    deliver_due()
    raw = only_raw(mailbox, "lecteur@example.com", "Salon")
    message = email.message_from_bytes(raw)
    assert message["Feedback-ID"] == f"{report.campaign_id}:evenements:newsletter:www.k-inventory.com"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert {"feedback-id", "list-unsubscribe", "list-unsubscribe-post"} <= signed_fields(raw, key)


def test_transactional_mail_is_unchanged(signing_app, key, mailbox):
    queue_mail("demandeur@example.com", "Votre demande a été reçue", "Bonjour.\n")
    db.session.commit()
    deliver_due()
    [raw] = mailbox.raw_to("demandeur@example.com")
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert b"List-Unsubscribe" not in head and b"Feedback-ID" not in head
    assert "feedback-id" in signed_fields(raw, key), "signed as absent: nobody can add one on the way"
    assert db.session.scalar(sa.select(OutboxMessage.kind)) == "transactional"
