"""Signed links sent to requesters: confirm the address, follow the request, download the data package."""

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.rights.deadlines import UNCONFIRMED_LIFETIME

CONFIRM, STATUS, DOWNLOAD = "rights-confirm", "rights-status", "rights-download"
PACKAGE_LIFETIME_SECONDS = 7 * 24 * 3600
LIFETIMES = {CONFIRM: int(UNCONFIRMED_LIFETIME.total_seconds()), STATUS: None, DOWNLOAD: PACKAGE_LIFETIME_SECONDS}


class InvalidLink(ValueError):
    """A link we did not sign, altered or cut."""


class ExpiredLink(InvalidLink):
    """A genuine link used after its lifetime."""


def serializer(purpose: str) -> URLSafeTimedSerializer:
    """One serializer per purpose, so a status link can never confirm or download."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=purpose)


def make_token(purpose: str, public_id: str) -> str:
    """Sign a public id for one purpose."""
    return serializer(purpose).dumps(public_id)


def read_token(purpose: str, token: str) -> str:
    """The public id in a token, or InvalidLink / ExpiredLink."""
    try:
        value = serializer(purpose).loads(token, max_age=LIFETIMES[purpose])
    except SignatureExpired as error:
        raise ExpiredLink(str(error)) from error
    except BadSignature as error:
        raise InvalidLink(str(error)) from error
    if not isinstance(value, str):
        raise InvalidLink("unexpected payload")
    return value
