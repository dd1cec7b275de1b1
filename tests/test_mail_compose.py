"""The direct message writer puts out the very bytes Python's `email` writes, for every shape of message we send."""

import itertools
import random
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default
from types import SimpleNamespace

import pytest

from app.mail.compose import check_headers, check_recipient, new_boundary, raw_header, render_email, render_with_email

SENDER = "K-Inventory <no-reply@k-inventory.com>"
TEXTS = ["", "a", "Bonjour é\nligne finie par des espaces  \n" + "x" * 100 + "\n", "x\r\ny\rz\n\n", "tab\t\nfin ",
         "=?utf-8?q?x?=", "a" * 75 + " ", "\x0b\x0c\x85 é€😀\n" * 3, "ligne\u2028séparée", "--===============1==\n"]
HTMLS = [None, "", "<p>é</p>", "<html><body>" + "<p>Nouveautés</p>" * 30 + "</body></html>"]
SUBJECTS = ["Bonjour", "Nouveautés de novembre", "x" * 120, "a " * 60, "=?utf-8?q?x?=", "😀", ""]
RECIPIENTS = ["abonne1@example.com", "a.b+c@ex-ample.co.uk", "x" * 70 + "@example.com", "A_b@Example.COM",
              "jérôme@exemple.fr", "o'brien@example.com", "personne@exämple.fr"]
MESSAGE_IDS = ["<abc.1@www.k-inventory.com>", "<a=b@c>", "<" + "z" * 80 + "@example.com>"]
HEADERS = [{}, {"List-Id": "K <a.b>", "List-Unsubscribe": "<https://www.k-inventory.com/x/" + "t" * 60 + ">, "
                                                           "<mailto:stop@k-inventory.com?subject=unsubscribe%20t>"}]


def message(text, html, subject, recipient, message_id, headers) -> SimpleNamespace:
    """An outbox row as the writers read it."""
    return SimpleNamespace(recipient=recipient, subject=subject, body_text=text, body_html=html, headers=headers,
                           message_id=message_id, created_at=datetime(2026, 11, 2, 8, 30, 5, tzinfo=UTC))


@pytest.mark.parametrize("text", TEXTS)
def test_the_direct_writer_matches_email_byte_for_byte(text):
    for seed, (html, recipient, headers) in enumerate(itertools.product(HTMLS, RECIPIENTS, HEADERS)):
        subject, message_id = SUBJECTS[seed % len(SUBJECTS)], MESSAGE_IDS[seed % len(MESSAGE_IDS)]
        row = message(text, html, subject, recipient, message_id, headers)
        extra = "".join(raw_header(name, value) for name, value in check_headers(row.headers).items())
        random.seed(seed)  # the MIME boundary is drawn at random: the same draw for both writers
        direct = render_email(row, SENDER)
        random.seed(seed)
        assert direct == render_with_email(row, SENDER, check_recipient(row.recipient), extra), row


def test_a_text_that_holds_the_boundary_drawn_cannot_break_the_message():
    random.seed(7)
    drawn = new_boundary().decode()
    row = message(f"--{drawn}\n", "<p>HTML</p>", "Sujet", "a@example.com", "<a.1@example.com>", {})
    random.seed(7)
    parsed = message_from_bytes(render_email(row, SENDER), policy=default)
    assert parsed.get_boundary() == drawn, "quoted-printable writes the text's « = » as « =3D »"
    assert [part.get_content() for part in parsed.iter_parts()] == [f"--{drawn}\r\n", "<p>HTML</p>\r\n"]
