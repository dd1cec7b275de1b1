"""Messages as sent: recipient and headers checked, headers written raw and folded only where RFC 5322 allows.

Python's `email` package folds any header longer than 78 characters, and folds a header with no space in it
(such as `List-Unsubscribe`) by RFC 2047-encoding it, which hides the URIs from every other reader. So the
standard fields (From, To, Subject, Date, Message-ID and the MIME fields) are written by `email`, which encodes
only what must be (non-ASCII subjects and display names), and every other header is written here, as is:
ASCII only, one line, or folded between the `<…>` of a URI list, never over 998 octets a line.
"""

import random
import re
import sys
from email import message_from_bytes, quoprimime
from email.message import EmailMessage
from email.policy import SMTP, SMTPUTF8, default
from email.utils import format_datetime
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

FOLD_WIDTH = 78  # RFC 5322 §2.1.1: lines SHOULD stay within 78 characters …
MAX_LINE = 998  # … and MUST stay within 998
HEADER_NAME = re.compile(r"[!-9;-~]{1,76}")  # printable ASCII but the colon
HEADER_VALUE = re.compile(r"[\t -~]*")  # printable ASCII, space and tab: no CR, LF or other control
MESSAGE_ID = re.compile(r"<[!-;=?-~]+@[!-;=?-~]+>")
URI_LIST_SEPARATOR = re.compile(r"(?<=>)[ \t]*,[ \t]*(?=<)")
# Fields that the outbox writes itself, or that only a relay may add: never taken from a row's extra headers.
RESERVED = frozenset({
    "from", "sender", "to", "cc", "bcc", "reply-to", "subject", "date", "message-id", "mime-version",
    "content-type", "content-transfer-encoding", "content-disposition", "dkim-signature", "return-path",
    "received", "delivered-to",
})


class InvalidMessage(ValueError):
    """A recipient, subject or header that cannot be written into a message; the text says which and why."""


def has_line_break(value: str) -> bool:
    """Whether a value holds CR, LF or another line separator a header must not contain."""
    return any(char in value for char in "\r\n\x0b\x0c\x85\u2028\u2029")


def check_recipient(address: str) -> str:
    """The address as SMTP takes it (ASCII when it can be, else for SMTPUTF8); InvalidMessage when it is none."""
    if not isinstance(address, str) or has_line_break(address) or "\x00" in address:
        raise InvalidMessage("the recipient address contains a line break or a NUL character")
    try:
        checked = validate_email(address, check_deliverability=False)
    except EmailNotValidError as error:
        raise InvalidMessage(f"the recipient address is not valid: {error}") from error
    return checked.ascii_email or checked.normalized


def check_subject(subject: str) -> str:
    """A one-line subject."""
    if not isinstance(subject, str) or has_line_break(subject) or "\x00" in subject:
        raise InvalidMessage("the subject contains a line break or a NUL character")
    return subject


def check_headers(headers: dict | None) -> dict[str, str]:
    """Extra headers that can be written as they are (each folded line within 998 octets)."""
    if headers is None:
        return {}
    if not isinstance(headers, dict):
        raise InvalidMessage("the extra headers are not a mapping of names to values")
    for name, value in headers.items():
        raw_header(name, value)
    return headers


def raw_header(name: str, value: str) -> str:
    """The header as written on the wire (CRLF-terminated), folded only between the `<…>` of a URI list."""
    if not isinstance(name, str) or not HEADER_NAME.fullmatch(name) or name.lower() in RESERVED:
        raise InvalidMessage(f"the header name {name!r} is not allowed")
    if not isinstance(value, str) or not HEADER_VALUE.fullmatch(value):
        raise InvalidMessage(f"the {name} header holds a line break or a character other than printable ASCII")
    parts = URI_LIST_SEPARATOR.split(value.strip())
    lines, line = [], f"{name}: {parts[0]}"
    for part in parts[1:]:
        if len(line) + 2 + len(part) > FOLD_WIDTH:
            lines.append(line + ",")
            line = " " + part
        else:
            line += ", " + part
    lines.append(line)
    if any(len(line) > MAX_LINE for line in lines):
        raise InvalidMessage(f"the {name} header has a line over {MAX_LINE} octets")
    return "\r\n".join(lines) + "\r\n"


def check_message_id(message_id: str) -> str:
    """A Message-ID of the form <left@right>."""
    if not isinstance(message_id, str) or not MESSAGE_ID.fullmatch(message_id):
        raise InvalidMessage("the Message-ID is not of the form <left@right>")
    return message_id


def render_email(message, sender: str) -> bytes:
    """The message as sent (CRLF line ends): MIME parts in quoted-printable, extra headers raw."""
    return write_email(message, sender, check_recipient(message.recipient))


def write_email(message, sender: str, recipient: str) -> bytes:
    """`render_email` for a recipient already checked (as `check_recipient` returns it)."""
    extra = "".join(raw_header(name, value) for name, value in check_headers(message.headers).items())
    subject, message_id = check_subject(message.subject), check_message_id(message.message_id)
    if not recipient.isascii():  # rare: written by `email` itself, in UTF-8 for SMTPUTF8
        return render_with_email(message, sender, recipient, extra)
    head = b"".join((folded(SMTP, "From", sender), simple_header("To", recipient, SIMPLE_ADDRESS),
                     folded(SMTP, "Subject", subject), folded(SMTP, "Date", format_datetime(message.created_at)),
                     simple_header("Message-ID", message_id, SIMPLE_MESSAGE_ID)))
    text = text_part(message.body_text)
    if not message.body_html:
        return head + TEXT_HEADERS + MIME_VERSION + extra.encode("ascii") + b"\r\n" + text
    html = text_part(message.body_html)
    parts = (TEXT_HEADERS + b"\r\n" + text, HTML_HEADERS + MIME_VERSION + b"\r\n" + html)
    boundary = new_boundary()  # never in a part: quoted-printable writes each "=" of the text as "=3D"
    return (head + MIME_VERSION + b'Content-Type: multipart/alternative;\r\n boundary="' + boundary + b'"\r\n'
            + extra.encode("ascii") + b"\r\n--" + boundary + b"\r\n" + parts[0] + b"\r\n--" + boundary
            + b"\r\n" + parts[1] + b"\r\n--" + boundary + b"--\r\n")


# What `email` writes for our messages, written here directly: its header parser and folder cost about 3 ms a
# message. Same bytes (tests/test_mail_compose.py compares both writers); anything unusual is left to `email`.
SIMPLE_ADDRESS = re.compile(r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
SIMPLE_MESSAGE_ID = re.compile(r"<[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*>")
TEXT_HEADERS = b'Content-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n'
HTML_HEADERS = b'Content-Type: text/html; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n'
MIME_VERSION = b"MIME-Version: 1.0\r\n"
BOUNDARY_DIGITS = len(repr(sys.maxsize - 1))
LINE_ENDS = re.compile(r"\r\n|\r|\n")


@lru_cache(maxsize=512)
def folded(policy, name: str, value: str) -> bytes:
    """A header line as `email` writes it (encoded words, folding); the sender, subjects and dates repeat."""
    return policy.fold_binary(*policy.header_store_parse(name, value))


def simple_header(name: str, value: str, simple: re.Pattern) -> bytes:
    """A one-line ASCII header that `email` would write unchanged; anything else goes through `folded`."""
    if simple.fullmatch(value) and len(name) + 2 + len(value) <= FOLD_WIDTH:
        return f"{name}: {value}\r\n".encode("ascii")
    return folded(SMTP, name, value)


def new_boundary() -> bytes:
    """A MIME boundary drawn as `email` draws it (which also searches the parts for it, in vain after QP)."""
    return b"=" * 15 + b"%0*d" % (BOUNDARY_DIGITS, random.randrange(sys.maxsize)) + b"=="


@lru_cache(maxsize=64)
def text_part(text: str) -> bytes:
    """A body in quoted-printable with CRLF line ends, as `email` encodes it; the same body is encoded once."""
    lines = text.encode("utf-8").splitlines()
    encoded = quoprimime.body_encode((b"\n".join(lines) + b"\n").decode("latin-1"), SMTP.max_line_length)
    return LINE_ENDS.sub("\r\n", encoded).encode("ascii")


def render_with_email(message, sender: str, recipient: str, extra: str) -> bytes:
    """The message written by Python's `email` (the reference the direct writer above matches)."""
    # An address with a non-ASCII local part goes by SMTPUTF8 (RFC 6531), its headers in UTF-8.
    mime = EmailMessage(policy=SMTP if recipient.isascii() else SMTPUTF8)
    mime["From"] = sender
    mime["To"] = recipient
    mime["Subject"] = check_subject(message.subject)
    mime["Date"] = format_datetime(message.created_at)
    mime["Message-ID"] = check_message_id(message.message_id)
    # Quoted-printable keeps every line 7-bit: a relay never re-encodes the body, so a DKIM signature holds.
    mime.set_content(message.body_text, cte="quoted-printable")
    if message.body_html:
        mime.add_alternative(message.body_html, subtype="html", cte="quoted-printable")
    head, body = mime.as_bytes().split(b"\r\n\r\n", 1)
    return head + b"\r\n" + extra.encode("ascii") + b"\r\n" + body


def build_email(message, sender: str) -> EmailMessage:
    """The message as a reader parses it (for checks and benchmarks)."""
    return message_from_bytes(render_email(message, sender), policy=default)
