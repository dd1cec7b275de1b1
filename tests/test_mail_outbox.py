"""An outbox nothing can jam: bad input refused when queued, a poison row fails alone, the worker lives on."""

import html
import re
import uuid

import pytest
import sqlalchemy as sa

from app.database import utcnow
from app.extensions import db
from app.mail.models import OutboxMessage, OutboxStatus
from app.mail.services import InvalidMessage, deliver_due, queue_mail
from app.rights.models import RightsRequest

GOOD = [f"personne{i}@example.com" for i in range(6)]


def insert_raw(**fields) -> None:
    """A row written straight into the outbox table, as a bug, an import or a bulk SQL send could."""
    row = {"created_at": utcnow(), "kind": "transactional", "recipient": "x@example.com", "subject": "Sujet",
           "body_text": "Texte", "body_html": None, "headers": {}, "message_id": f"<{uuid.uuid4().hex}@example.com>",
           "status": OutboxStatus.PENDING, "attempts": 0, "next_attempt_at": utcnow(), **fields}
    db.session.execute(sa.insert(OutboxMessage.__table__), [row])


POISONS = {
    "CR/LF recipient": {"recipient": "victime@example.com\r\nBcc: tout-le-monde@example.com"},
    "no domain": {"recipient": "personne-sans-domaine"},
    "header with CR/LF": {"headers": {"X-Note": "un\r\nBcc: tout-le-monde@example.com"}},
    "header not text": {"headers": {"X-Note": 5}},
    "headers not a mapping": {"headers": ["X-Note"]},
    "subject with LF": {"subject": "Sujet\nBcc: tout-le-monde@example.com"},
    "bad Message-ID": {"message_id": "pas-un-identifiant"},
    "list header over 998 octets": {"headers": {"List-Unsubscribe": f"<https://example.com/{'x' * 1000}>"}},
}


def queue_good(addresses) -> None:
    """Queue a valid message to each address."""
    for address in addresses:
        queue_mail(address, "Bonjour", "Texte")


def test_a_poison_message_leaves_every_other_message_delivered(app, mailbox):
    queue_good(GOOD[:3])
    db.session.commit()
    for fields in POISONS.values():
        insert_raw(**fields)
    db.session.commit()
    queue_good(GOOD[3:])
    db.session.commit()
    report = deliver_due()
    assert (report.sent, report.failed, report.retried) == (6, len(POISONS), 0)
    assert sorted(d.rcpt_tos[0] for d in mailbox.deliveries) == GOOD
    assert all(b"tout-le-monde" not in d.content for d in mailbox.deliveries)
    failed = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.FAILED)).all()
    assert len(failed) == len(POISONS) and all(r.attempts == 1 and r.last_error for r in failed)
    assert deliver_due().sent == 0, "a failed row is never picked again"


def test_the_error_is_kept_on_the_row(app, mailbox):
    insert_raw(recipient="victime@example.com\r\nBcc: x@example.com")
    db.session.commit()
    deliver_due()
    row = db.session.scalar(sa.select(OutboxMessage))
    assert row.status == OutboxStatus.FAILED and row.last_error == (
        "InvalidMessage: the recipient address contains a line break or a NUL character")


def test_one_connection_serves_a_batch_and_a_new_one_follows_an_error(app, mailbox):
    mailbox.reject_content_for(GOOD[2])
    queue_good(GOOD)
    db.session.commit()
    report = deliver_due()
    assert (report.sent, report.failed) == (5, 1)
    assert mailbox.connections == 2, "messages 1–2 on one connection; after the 554, messages 4–6 on a new one"
    rejected = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.recipient == GOOD[2]))
    assert rejected.status == OutboxStatus.FAILED and rejected.last_error.startswith("554")


@pytest.mark.parametrize(("recipient", "subject", "headers"), [
    ("victime@example.com\r\nBcc: tout-le-monde@example.com", "Sujet", None),
    ("victime@example.com\n", "Sujet", None),
    ("pas une adresse", "Sujet", None),
    ("personne@", "Sujet", None),
    ("personne@example.com", "Sujet\r\nBcc: x@example.com", None),
    ("personne@example.com", "Sujet", {"X-Note": "un\nBcc: x@example.com"}),
    ("personne@example.com", "Sujet", {"From": "autre@example.com"}),
])
def test_queue_mail_refuses_what_could_not_be_sent(app, recipient, subject, headers):
    with pytest.raises(InvalidMessage):
        queue_mail(recipient, subject, "Texte", headers=headers)
    db.session.rollback()


def test_an_internationalised_address_goes_by_smtputf8(app, mailbox):
    queue_mail("jérôme@exemple.fr", "Bonjour", "Texte")
    db.session.commit()
    assert deliver_due().sent == 1
    [delivery] = mailbox.deliveries
    assert delivery.rcpt_tos == ("jérôme@exemple.fr",) and "To: jérôme@exemple.fr".encode() in delivery.content


def test_the_worker_outlives_a_pass_that_cannot_run(make_app, mailbox, tmp_path):
    app = make_app(DKIM_SIGNING="app", DKIM_DOMAIN="k-inventory.com", DKIM_SELECTOR="k2026",
                   DKIM_PRIVATE_KEY_FILE=str(tmp_path / "absente.pem"))
    with app.app_context():
        queue_good(GOOD[:1])
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["outbox", "send", "--loop", "--interval", "0", "--passes", "3"])
    assert result.exit_code == 0, result.output
    assert result.output.count("pass stopped: SigningError: cannot read DKIM_PRIVATE_KEY_FILE") == 3
    with app.app_context():
        status = db.session.scalar(sa.select(OutboxMessage.status))
        assert status == OutboxStatus.PENDING, "kept for when the key is back"


def test_the_worker_reports_poison_and_goes_on(app, runner, mailbox):
    queue_good(GOOD[:2])
    insert_raw(recipient="victime@example.com\r\nBcc: x@example.com")
    db.session.commit()
    result = runner.invoke(args=["outbox", "send", "--loop", "--interval", "0", "--passes", "2"])
    assert result.exit_code == 0 and result.output == "sent 2, to retry 0, failed 1\n"
    statuses = sorted(db.session.scalars(sa.select(OutboxMessage.status)))
    assert statuses == [OutboxStatus.FAILED, OutboxStatus.SENT, OutboxStatus.SENT]


def test_back_office_rectification_refuses_an_address_that_cannot_receive_mail(app, client, mailbox):
    from tests.support.rights import confirmed_request, staff_action, staff_client

    reference = confirmed_request(client, mailbox, kind="rectification", correction="Nouvelle adresse").reference
    staff = staff_client(app)
    typed = "jeanne.durand@example.fr\r\nBcc: tout-le-monde@example.com"
    response = staff_action(staff, reference, "rectifier", name="Jeanne Durand", email=typed)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "Adresse e-mail invalide\u00a0: aucun e-mail ne pourrait y être envoyé." in page
    assert "L’action n’a pas été faite\u00a0: corrigez les champs signalés." in page
    assert re.search(r'value="Jeanne Durand"', page), "what the staff member typed is kept"
    assert "jeanne.durand@example.fr" in page
    db.session.expire_all()
    row = db.session.scalar(sa.select(RightsRequest).where(RightsRequest.reference == reference))
    assert (row.name, row.email) == ("Jeanne Martin", "jeanne@example.fr"), "nothing was changed"
