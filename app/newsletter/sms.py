"""Inbound SMS (Twilio's webhook format): the X-Twilio-Signature check, STOP/START keywords and TwiML answers."""

import base64
import hashlib
import hmac
import re
import unicodedata
from xml.sax.saxutils import escape

STOP_WORDS = {"STOP", "ARRET", "STOP SMS", "UNSUBSCRIBE", "DESABONNER"}
START_WORDS = {"START", "UNSTOP"}
NOT_WORD = re.compile(r"[^A-Z0-9]+")


def expected_signature(secret: str, url: str, params: list[tuple[str, str]]) -> str:
    """Twilio's signature: base64 HMAC-SHA1 of the full URL then each parameter name and value, sorted."""
    payload = url + "".join(name + value for name, value in sorted(params))
    digest = hmac.new(secret.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def signature_valid(secret: str, url: str, params: list[tuple[str, str]], signature: str | None) -> bool:
    """Whether the request was signed with our secret (never true without a secret or a signature)."""
    if not secret or not signature:
        return False
    return hmac.compare_digest(expected_signature(secret, url, params).encode(), signature.strip().encode())


def keyword(body: str | None) -> str:
    """The body reduced to capital letters without accents, punctuation or extra spaces: « Arrêt ! » → ARRET."""
    text = unicodedata.normalize("NFKD", body or "").encode("ascii", "ignore").decode().upper()
    return " ".join(NOT_WORD.sub(" ", text).split())


def is_stop(body: str | None) -> bool:
    """A request to stop SMS: STOP, ARRET, ARRÊT, STOP SMS, UNSUBSCRIBE, DESABONNER, in any form."""
    return keyword(body) in STOP_WORDS


def is_start(body: str | None) -> bool:
    """A request to receive SMS again, sent from the phone itself."""
    return keyword(body) in START_WORDS


def twiml(message: str | None = None) -> str:
    """A TwiML answer: one reply SMS, or none."""
    head = '<?xml version="1.0" encoding="UTF-8"?>'
    if message is None:
        return head + "<Response/>"
    return f"{head}<Response><Message>{escape(message)}</Message></Response>"
