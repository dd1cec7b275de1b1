"""Every signed link of the site: a named purpose each (a token made for one never opens another), a maximum age,
and key rotation (new links signed with SECRET_KEY, old ones still read with SECRET_KEY_FALLBACKS)."""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, Signer, URLSafeTimedSerializer


@dataclass(frozen=True)
class Purpose:
    """What a link is for, how long it lives (None: for good), and where a visitor asks for a new one.

    `after_close`: how long the link keeps working once the thing it names is closed (a rights request); the view
    that reads it knows when that happened and calls `require_not_lapsed`.
    """

    salt: str
    max_age: timedelta | None
    renew_url: str  # an endpoint, with an optional #fragment
    renew_label: str
    after_close: timedelta | None = None


NEW_NEWSLETTER_LINK = ("newsletter.subscribe#lien", _l("Demander un nouveau lien"))
CONTACT_US = ("rights.contact", _l("Formulaire de contact"))
NEWSLETTER_CONFIRM = Purpose("newsletter-confirm", timedelta(days=7), *NEW_NEWSLETTER_LINK)
NEWSLETTER_MANAGE = Purpose("newsletter-manage", None, *NEW_NEWSLETTER_LINK)
NEWSLETTER_STAY = Purpose("newsletter-stay", timedelta(days=60), *NEW_NEWSLETTER_LINK)  # « Oui, je reste abonné »
RIGHTS_CONFIRM = Purpose("rights-confirm", timedelta(days=30), *CONTACT_US)
RIGHTS_STATUS = Purpose("rights-status", None, *CONTACT_US, after_close=timedelta(days=365))
RIGHTS_DOWNLOAD = Purpose("rights-download", timedelta(days=7), *CONTACT_US)


class InvalidLink(ValueError):
    """A link we did not sign, altered, cut, or naming something that no longer exists."""

    def __init__(self, purpose: Purpose, reason: str = "bad signature") -> None:
        """Keep the purpose: the error page says how long such a link lives and where to get a new one."""
        super().__init__(reason)
        self.purpose = purpose


class ExpiredLink(InvalidLink):
    """A genuine link used after its maximum age."""


# itsdangerous' own digest, SHA-1, given as hashlib's constructor: Python's HMAC then runs in C (itsdangerous' lazy
# wrapper of the same function sends it down HMAC's pure-Python path). Tokens are the same bytes either way.
SHA1 = hashlib.sha1


def secret_keys() -> list[str]:
    """Every key that may have signed a link, oldest first: the last one signs new links."""
    config = current_app.config
    return [*(config.get("SECRET_KEY_FALLBACKS") or []), config["SECRET_KEY"]]


def timed_serializer(purpose: Purpose) -> URLSafeTimedSerializer:
    """The serializer of a purpose's timestamped tokens; build it once to sign many."""
    return URLSafeTimedSerializer(secret_keys(), salt=purpose.salt, signer_kwargs={"digest_method": SHA1})


def sign(purpose: Purpose, value) -> str:
    """A URL-safe, timestamped token carrying a JSON value for one purpose."""
    return timed_serializer(purpose).dumps(value)


def read(purpose: Purpose, token: str):
    """The value in a token of that purpose; InvalidLink, or ExpiredLink once past its maximum age."""
    max_age = int(purpose.max_age.total_seconds()) if purpose.max_age else None
    try:
        return timed_serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired as error:
        raise ExpiredLink(purpose, "expired") from error
    except BadSignature as error:
        raise InvalidLink(purpose) from error


def require_not_lapsed(purpose: Purpose, closed_at: datetime | None, now: datetime) -> None:
    """ExpiredLink once the thing a link names has been closed for longer than the purpose allows."""
    if purpose.after_close is not None and closed_at is not None and now > closed_at + purpose.after_close:
        raise ExpiredLink(purpose, "closed")


def read_text(purpose: Purpose, token: str) -> str:
    """A token whose value is one string (a public id)."""
    value = read(purpose, token)
    if not isinstance(value, str):
        raise InvalidLink(purpose, "unexpected payload")
    return value


def compact_signer(purpose: Purpose) -> Signer:
    """A signer for short links that never expire (`value.signature`); build it once to sign many links."""
    if purpose.max_age is not None:
        raise ValueError("compact links carry no timestamp: their purpose must not expire")
    return Signer(secret_keys(), salt=purpose.salt, digest_method=SHA1)


def read_compact(purpose: Purpose, token: str) -> str:
    """The value of a compact link of that purpose."""
    try:
        return compact_signer(purpose).unsign(token).decode()
    except (BadSignature, UnicodeDecodeError) as error:
        raise InvalidLink(purpose) from error
