"""Twilio's webhook format: the X-Twilio-Signature check (as its RequestValidator does), keywords, TwiML."""

import base64
import hashlib
import hmac
import re
import unicodedata
from collections import defaultdict
from enum import StrEnum
from urllib.parse import urlsplit, urlunsplit
from xml.sax.saxutils import escape

NOT_WORD = re.compile(r"[^A-Z0-9]+")
DEFAULT_PORTS = {"https": 443, "http": 80}


class Keyword(StrEnum):
    """What an inbound message asks for (Twilio's OptOutType values)."""

    STOP = "STOP"
    START = "START"
    HELP = "HELP"


# Twilio's default keywords (English, and French as Advanced Opt-Out lists them), compared after `keyword()`;
# STOP SMS and DESABONNER are ours, long promised by the policy.
KEYWORDS = {
    Keyword.STOP: {"STOP", "STOPALL", "STOP ALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT",
                   "OPT OUT", "ARRET", "ARRETE", "ARRETT", "DESABONNER", "STOP SMS"},
    Keyword.START: {"START", "YES", "UNSTOP"},
    Keyword.HELP: {"HELP", "INFO", "AIDE"},
}


def signed_text(url: str, params: list[tuple[str, str]]) -> str:
    """What Twilio signs: the URL, then each parameter name with each of its values, names and values sorted."""
    values = defaultdict(set)
    for name, value in params:
        values[name].add(value)
    return url + "".join(name + value for name in sorted(values) for value in sorted(values[name]))


def expected_signature(secret: str, url: str, params: list[tuple[str, str]]) -> str:
    """Twilio's signature: base64 HMAC-SHA1 of the signed text, keyed with the Auth Token."""
    digest = hmac.new(secret.encode(), signed_text(url, params).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def url_variants(url: str) -> tuple[str, str]:
    """The URL as given and with its default port added or removed (Twilio signs either form)."""
    parts = urlsplit(url)
    if parts.port:
        other = parts._replace(netloc=parts.netloc.rsplit(":", 1)[0])
    else:
        other = parts._replace(netloc=f"{parts.netloc}:{DEFAULT_PORTS.get(parts.scheme, 80)}")
    return url, urlunsplit(other)


def signature_valid(secret: str, url: str, params: list[tuple[str, str]], signature: str | None) -> bool:
    """Whether the request was signed with our secret, for the URL with or without its port (never without both)."""
    if not secret or not signature:
        return False
    given = signature.strip().encode()
    return any(hmac.compare_digest(expected_signature(secret, variant, params).encode(), given)
               for variant in url_variants(url))


def keyword(body: str | None) -> str:
    """The body reduced to capital letters without accents, punctuation or extra spaces: « Arrêt ! » → ARRET."""
    text = unicodedata.normalize("NFKD", body or "").encode("ascii", "ignore").decode().upper()
    return " ".join(NOT_WORD.sub(" ", text).split())


def classify(body: str | None, opt_out_type: str | None = None) -> Keyword | None:
    """What the message asks for: Twilio's OptOutType when present, else the whole body matched against the lists."""
    if opt_out_type and opt_out_type.strip():
        return Keyword.__members__.get(opt_out_type.strip().upper())
    word = keyword(body)
    return next((kind for kind, words in KEYWORDS.items() if word in words), None)


def twiml(message: str | None = None) -> str:
    """A TwiML answer: one reply SMS, or none."""
    head = '<?xml version="1.0" encoding="UTF-8"?>'
    if message is None:
        return head + "<Response/>"
    return f"{head}<Response><Message>{escape(message)}</Message></Response>"
