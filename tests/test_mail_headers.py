"""Headers as sent: read in the raw bytes the SMTP server received, and by a parser that is not Python's."""

import re
import uuid
from types import SimpleNamespace

import pytest

from app.extensions import db
from app.mail.compose import InvalidMessage, raw_header
from app.mail.services import deliver_due, queue_mail
from tests.support.newsletter import queue_marketing_mail
from tests.support.smtp import parse_with_node

SITE = "https://www.k-inventory.com"
MAILTO = "desabonnement@k-inventory.com"
UNSUBSCRIBE = f"{SITE}/newsletter/desabonnement/"


def header_block(raw: bytes) -> bytes:
    """The top-level header lines of a raw message, folded as sent."""
    return raw.split(b"\r\n\r\n", 1)[0]


def raw_field(raw: bytes, name: str) -> bytes:
    """One header as it was written on the wire, continuation lines included."""
    pattern = rb"^" + name.encode() + rb":[^\r\n]*(?:\r\n[ \t][^\r\n]*)*"
    match = re.search(pattern, header_block(raw), re.MULTILINE | re.IGNORECASE)
    assert match, f"no {name} header"
    return match.group(0)


@pytest.fixture
def site(make_app):
    """The app with an https SITE_URL and an unsubscribe mailbox, inside an app context."""
    app = make_app(SITE_URL=SITE, UNSUBSCRIBE_MAILTO=MAILTO,
                   MAIL_DEFAULT_SENDER="Équipe K-Inventory <no-reply@k-inventory.com>")
    with app.app_context():
        yield app


def received(mailbox, address: str) -> bytes:
    """The one message received for the address, raw."""
    [raw] = mailbox.raw_to(address)
    return raw


def test_list_unsubscribe_is_written_raw_and_folded_only_between_uris(site, mailbox):
    queue_marketing_mail(SimpleNamespace(email="lecteur@example.com", public_id=uuid.uuid4().hex, language="fr"),
                         "actualites-produit", "Nouveautés de novembre", "Bonjour.\n")
    db.session.commit()
    assert deliver_due().sent == 1
    raw = received(mailbox, "lecteur@example.com")
    field = raw_field(raw, "List-Unsubscribe")
    assert b"=?" not in field, "never RFC 2047-encoded"
    assert re.fullmatch(rb"List-Unsubscribe: <" + re.escape(UNSUBSCRIBE.encode()) + rb"[A-Za-z0-9._-]+>,\r\n"
                        rb" <mailto:" + re.escape(MAILTO.encode()) + rb"\?subject=unsubscribe%20[A-Za-z0-9._-]+>",
                        field), field
    assert raw_field(raw, "List-Unsubscribe-Post") == b"List-Unsubscribe-Post: List-Unsubscribe=One-Click"
    list_id = b"List-Id: K-Inventory Actualites produit <actualites-produit.www.k-inventory.com>"
    assert raw_field(raw, "List-Id") == list_id
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    assert raw.isascii(), "7-bit on the wire: encoded only where it must be (subject, display name, body)"


def test_non_ascii_only_where_it_must_be(site, mailbox):
    queue_mail("lecteur@example.com", "Votre demande a été reçue", "Texte accentué : é à ç.\n")
    queue_mail("autre@example.com", "Plain ASCII subject", "Text.\n")
    db.session.commit()
    deliver_due()
    accented, plain = received(mailbox, "lecteur@example.com"), received(mailbox, "autre@example.com")
    assert raw_field(accented, "Subject").startswith(b"Subject: Votre demande a =?utf-8?"), "accented words only"
    assert raw_field(plain, "Subject") == b"Subject: Plain ASCII subject"
    assert raw_field(plain, "From") == b"From: =?utf-8?q?=C3=89quipe?= K-Inventory <no-reply@k-inventory.com>"
    assert raw_field(plain, "To") == b"To: autre@example.com"
    assert re.fullmatch(rb"Message-ID: <[^>\r\n]+@www\.k-inventory\.com>", raw_field(plain, "Message-ID"))
    assert b"List-Unsubscribe" not in header_block(plain), "transactional mail has no unsubscribe header"
    parsed = parse_with_node(accented)
    assert parsed["subject"] == "Votre demande a été reçue"
    assert parsed["from"] == [{"address": "no-reply@k-inventory.com", "name": "Équipe K-Inventory"}]
    assert parsed["text"].strip() == "Texte accentué : é à ç."
    assert parsed["list"] is None


def test_another_parser_finds_the_one_click_unsubscribe(site, mailbox):
    queue_marketing_mail(SimpleNamespace(email="lecteur@example.com", public_id=uuid.uuid4().hex, language="en"),
                         "evenements", "Nouveautés de novembre", "Bonjour,\n\nVoici les nouveautés.\n",
                         "<html><body><p>Voici les nouveautés.</p></body></html>")
    db.session.commit()
    deliver_due()
    parsed = parse_with_node(received(mailbox, "lecteur@example.com"))
    unsubscribe = parsed["list"]["unsubscribe"]
    assert unsubscribe["url"].startswith(UNSUBSCRIBE) and unsubscribe["url"].endswith("?lang=en")
    assert unsubscribe["mail"].startswith(f"{MAILTO}?subject=unsubscribe%20")
    assert parsed["list"]["id"] == {"id": "evenements.www.k-inventory.com", "name": "K-Inventory Evenements"}
    assert parsed["subject"] == "Nouveautés de novembre"
    assert "Voici les nouveautés." in parsed["text"] and unsubscribe["url"] in parsed["text"]
    assert f'href="{unsubscribe["url"]}"' in parsed["html"]


def test_without_mailto_the_https_link_stands_alone(make_app, mailbox):
    app = make_app(SITE_URL=SITE, UNSUBSCRIBE_MAILTO="")
    with app.app_context():
        queue_marketing_mail(SimpleNamespace(email="lecteur@example.com", public_id=uuid.uuid4().hex,
                                             language="fr"), "actualites-produit", "Nouveautés", "Bonjour.\n")
        db.session.commit()
        deliver_due()
    raw = received(mailbox, "lecteur@example.com")
    assert re.fullmatch(rb"List-Unsubscribe: <" + re.escape(UNSUBSCRIBE.encode()) + rb"[A-Za-z0-9._-]+>",
                        raw_field(raw, "List-Unsubscribe"))
    unsubscribe = parse_with_node(raw)["list"]["unsubscribe"]
    assert unsubscribe["url"].startswith(UNSUBSCRIBE) and "mail" not in unsubscribe


def test_a_campaign_sent_in_bulk_has_the_same_raw_headers(site, mailbox, tmp_path):
    from tests.support.newsletter import confirmed_subscriber

    runner = site.test_cli_runner()
    confirmed_subscriber(site.test_client(), mailbox, "lectrice@example.com")
    mailbox.clear()
    (tmp_path / "texte.txt").write_text("Bonjour,\n\nVoici les nouveautés.\n", encoding="utf-8")
    result = runner.invoke(args=["newsletter", "send", "--list", "actualites-produit", "--subject", "Nouveautés",
                                 "--text", str(tmp_path / "texte.txt")])
    assert result.exit_code == 0, result.output
    deliver_due()
    raw = received(mailbox, "lectrice@example.com")
    assert b"=?" not in raw_field(raw, "List-Unsubscribe")
    unsubscribe = parse_with_node(raw)["list"]["unsubscribe"]
    assert unsubscribe["url"].startswith(UNSUBSCRIBE) and unsubscribe["mail"].startswith(MAILTO)


@pytest.mark.parametrize(("value", "expected"), [
    ("<https://a.example/u>", "List-Unsubscribe: <https://a.example/u>\r\n"),
    ("<https://a.example/u>, <mailto:u@a.example>",
     "List-Unsubscribe: <https://a.example/u>, <mailto:u@a.example>\r\n"),
    (f"<https://a.example/{'x' * 60}>,<mailto:u@a.example>",
     f"List-Unsubscribe: <https://a.example/{'x' * 60}>,\r\n <mailto:u@a.example>\r\n"),
])
def test_folding_happens_only_between_uris(value, expected):
    assert raw_header("List-Unsubscribe", value) == expected


@pytest.mark.parametrize(("name", "value"), [
    ("List-Unsubscribe", f"<https://a.example/{'x' * 990}>"),
    ("X-Note", "deux\r\nlignes"),
    ("X-Note", "accentué"),
    ("Bcc", "someone@example.com"),
    ("Bad Name", "x"),
])
def test_headers_that_cannot_be_written_raw_are_refused(name, value):
    with pytest.raises(InvalidMessage):
        raw_header(name, value)
