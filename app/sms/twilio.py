"""Twilio's webhooks: the X-Twilio-Signature check and the TwiML answer (the `twilio` package), our keywords."""

import re
import unicodedata
from collections.abc import Mapping
from enum import StrEnum

from twilio.request_validator import (
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)
from twilio.twiml.messaging_response import MessagingResponse

NOT_WORD = re.compile(r"[^A-Z0-9]+")


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


def signature_valid(secret: str, url: str, params: Mapping | str, headers: Mapping) -> bool:
    """Whether twilio's RequestValidator accepts X-Twilio-Signature, by the algorithm the settings header names."""
    signature = headers.get(SIGNATURE_HEADER)
    # Never without a secret or a signature: the validator would accept a signature made with an empty key.
    if not secret or not signature:
        return False
    algorithm = get_signature_algorithm(headers.get(SIGNATURE_SETTINGS_HEADER))
    return RequestValidator(secret).validate(url, params, signature, algorithm)


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
    """A TwiML answer (twilio's MessagingResponse): one reply SMS, or none."""
    answer = MessagingResponse()
    if message is not None:
        answer.message(message)
    return str(answer)
