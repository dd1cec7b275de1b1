"""A campaign's body is stored once; each reader still receives, byte for byte, the message built for them alone."""

import io
import json
import re
import zipfile

import pytest
import sqlalchemy as sa

from app.datamap import Person
from app.extensions import db
from app.mail.compose import render_email
from app.mail.models import OutboxMessage
from app.mail.services import Written
from app.newsletter.links import manage_token
from app.newsletter.mail import MarketingBuilder, feedback_id
from app.newsletter.models import Campaign, CampaignBody
from app.rights.package import build_zip
from tests.conftest import deliver_mail
from tests.support.newsletter import confirmed_subscriber, text_part
from tests.support.smtp import parse_with_node

SITE = "https://www.k-inventory.com"
MAILTO = "desabonnement@k-inventory.com"
SLUG = "evenements"
SUBJECT = "Nos événements de décembre"
TEXT = "Bonjour,\n\nRetrouvez-nous au salon de décembre.\n"
HTML = "<html><body><h1>Décembre</h1><p>Retrouvez-nous au salon.</p></body></html>"
BOUNDARY = re.compile(rb"={15}\d+==")  # Python's MIME boundary: random in each rendering


def comparable(raw: bytes) -> bytes:
    """A message's bytes with the random MIME boundary named alike, and without the final line end."""
    return BOUNDARY.sub(b"BOUNDARY", raw).rstrip(b"\r\n")


@pytest.fixture
def site(make_app):
    """The app with an https SITE_URL and an unsubscribe mailbox, inside an app context."""
    app = make_app(SITE_URL=SITE, UNSUBSCRIBE_MAILTO=MAILTO)
    with app.app_context():
        yield app


def readers(site, mailbox) -> list:
    """A French and an English reader of the list, both through the real double opt-in."""
    client = site.test_client()
    french = confirmed_subscriber(client, mailbox, "lea@example.com", [SLUG])
    english = confirmed_subscriber(client, mailbox, "sam@example.com", [SLUG])
    english.language = "en"
    db.session.commit()
    mailbox.clear()
    return [french, english]


def send(site, tmp_path, html: str | None = HTML) -> str:
    """Run `flask newsletter send` as an operator would; its output."""
    (tmp_path / "campagne.txt").write_text(TEXT, encoding="utf-8")
    args = ["newsletter", "send", "--list", SLUG, "--subject", SUBJECT, "--text", str(tmp_path / "campagne.txt")]
    if html is not None:
        (tmp_path / "campagne.html").write_text(html, encoding="utf-8")
        args += ["--html", str(tmp_path / "campagne.html")]
    result = site.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    return result.output


def row_of(email: str) -> OutboxMessage:
    """The campaign's outbox row for one reader."""
    db.session.expire_all()
    return db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.recipient == email,
                                                            OutboxMessage.kind == "marketing"))


def built_alone(row: OutboxMessage, reader, html: str | None, campaign_id: int) -> bytes:
    """The bytes the reader would get if their message had been built alone, with its own full body (and the
    campaign's Feedback-ID)."""
    content = MarketingBuilder(SLUG, SUBJECT, TEXT, html).build(reader.email, reader.public_id, reader.language)
    headers = {**content["headers"], "Feedback-ID": feedback_id(str(campaign_id), SLUG)}
    message = Written(row.id, row.recipient, row.subject, row.created_at, row.message_id, content["body_text"],
                      content["body_html"], headers)
    return render_email(message, "K-Inventory <no-reply@k-inventory.com>")


@pytest.mark.parametrize("html", [HTML, None], ids=["html", "text-only"])
def test_the_body_is_stored_once_and_each_reader_receives_their_own_message_byte_for_byte(site, mailbox, tmp_path,
                                                                                          html):
    people = readers(site, mailbox)
    assert "2 messages queued, 0 held back" in send(site, tmp_path, html)
    campaign = db.session.scalar(sa.select(Campaign))
    assert sorted(body.language for body in campaign.bodies) == ["en", "fr"]
    rows = {person.email: row_of(person.email) for person in people}
    for row in rows.values():  # the rows carry no copy of the body
        assert (row.body_text, row.body_html, row.headers) == ("", None, {})
        assert row.template_id in {body.id for body in campaign.bodies} and len(row.template_fill) == 32
    expected = {person.email: built_alone(rows[person.email], person, html, campaign.id)
                for person in people}
    deliver_mail()
    for person in people:
        [raw] = mailbox.raw_to(person.email)
        assert comparable(raw) == comparable(expected[person.email])
        parsed = parse_with_node(raw)
        token = manage_token(person.public_id, SLUG)
        assert parsed["list"]["unsubscribe"]["url"].startswith(f"{SITE}/newsletter/desabonnement/{token}")
        assert parsed["list"]["unsubscribe"]["mail"] == f"{MAILTO}?subject=unsubscribe%20{token}"
    english = mailbox.to("sam@example.com")[0]
    assert "Unsubscribe" in text_part(english) and "?lang=en" in text_part(english)


def test_the_access_package_shows_the_campaign_text_the_reader_was_sent(site, mailbox, tmp_path):
    french, _english = readers(site, mailbox)
    send(site, tmp_path)
    deliver_mail()
    [received] = mailbox.to(french.email)
    archive = zipfile.ZipFile(io.BytesIO(build_zip(Person(email=french.email), "DR-2026-000001")))
    sent = json.loads(archive.read("emails_envoyes.json"))
    [campaign_mail] = [mail for mail in sent if mail["subject"] == SUBJECT]
    assert campaign_mail["status"] == "sent"
    assert campaign_mail["body_text"].strip() == text_part(received).replace("\r\n", "\n").strip()
    assert manage_token(french.public_id, SLUG) in campaign_mail["body_text"]


def test_unsubscribing_before_delivery_cancels_that_readers_row_only(site, mailbox, tmp_path):
    french, english = readers(site, mailbox)
    send(site, tmp_path)
    url = f"/newsletter/desabonnement/{manage_token(french.public_id, SLUG)}"
    assert site.test_client(use_cookies=False).post(url, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert row_of(french.email).status == "cancelled"
    deliver_mail()
    assert [m["Subject"] for m in mailbox.to(french.email) if m["Subject"] == SUBJECT] == []
    assert [m["Subject"] for m in mailbox.to(english.email)] == [SUBJECT]


def test_a_row_whose_body_is_gone_fails_alone(site, mailbox, tmp_path):
    french, english = readers(site, mailbox)
    send(site, tmp_path)
    missing = db.session.scalar(sa.select(sa.func.max(CampaignBody.id))) + 100
    db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.recipient == french.email)
                       .values(template_id=missing))
    db.session.commit()
    deliver_mail()
    row = row_of(french.email)
    assert row.status == "failed" and row.last_error.startswith("LookupError")
    assert [m["Subject"] for m in mailbox.to(english.email)] == [SUBJECT]
