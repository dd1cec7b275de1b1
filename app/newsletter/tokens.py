"""Signed links: the confirmation link (7 days) and the manage link (unsubscribe, preferences; no expiry).

Both are signed with SECRET_KEY (and SECRET_KEY_FALLBACKS, so a rotated key keeps old e-mails working),
each with its own salt, so one kind can never be used as the other.
"""

import re
from datetime import timedelta
from functools import cached_property

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, Signer, URLSafeTimedSerializer

from app.newsletter.lists import ALL_LISTS, is_list

CONFIRM_SALT = "newsletter-confirm"
MANAGE_SALT = "newsletter-manage"
CONFIRM_VALIDITY = timedelta(days=7)
PUBLIC_ID = re.compile(r"^[0-9a-f]{32}$")
ALL_IN_TOKEN = "all"  # how « every list » is written inside a manage token


class InvalidToken(ValueError):
    """A link that was not made by us, was altered or cut, or names something that does not exist."""


class ExpiredToken(InvalidToken):
    """A genuine confirmation link, older than its 7 days."""


def secret_keys() -> list[str]:
    """Keys that may have signed a link; the last one signs new links."""
    config = current_app.config
    return [*(config.get("SECRET_KEY_FALLBACKS") or []), config["SECRET_KEY"]]


class ManageSigner(Signer):
    """itsdangerous' signer for manage links, deriving each key once (a campaign signs 100,000 links)."""

    @cached_property
    def derived_keys(self) -> list[bytes]:
        """Every accepted key, derived; the last one signs."""
        return [Signer.derive_key(self, key) for key in self.secret_keys]

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        """The derived signing key (or the one for an older key when verifying)."""
        if secret_key is None:
            return self.derived_keys[-1]
        return Signer.derive_key(self, secret_key)


def manage_serializer() -> ManageSigner:
    """The signer of manage links (reuse it for many links in a row)."""
    return ManageSigner(secret_keys(), salt=MANAGE_SALT)


def manage_token(public_id: str, slug: str = ALL_LISTS, serializer: Signer | None = None) -> str:
    """A link token naming the subscriber and one list (or every list): `<id>_<list>.<signature>`, no expiry."""
    value = f"{public_id}_{ALL_IN_TOKEN if slug == ALL_LISTS else slug}"
    return (serializer or manage_serializer()).sign(value).decode()


def read_manage_token(token: str) -> tuple[str, str]:
    """The (subscriber public id, list slug) a manage token names."""
    try:
        value = manage_serializer().unsign(token).decode()
    except (BadSignature, UnicodeDecodeError) as error:
        raise InvalidToken("bad signature") from error
    public_id, _, slug = value.partition("_")
    return checked_payload([public_id, ALL_LISTS if slug == ALL_IN_TOKEN else slug])


def checked_payload(payload) -> tuple[str, str]:
    """Refuse a payload that is not [public id, known list or every list]."""
    if not (isinstance(payload, list) and len(payload) == 2 and all(isinstance(p, str) for p in payload)):
        raise InvalidToken("unexpected payload")
    public_id, slug = payload
    if not PUBLIC_ID.match(public_id) or not (slug == ALL_LISTS or is_list(slug)):
        raise InvalidToken("unknown subscriber id or list")
    return public_id, slug


def confirm_token(public_id: str) -> str:
    """A confirmation link token, valid 7 days."""
    return URLSafeTimedSerializer(secret_keys(), salt=CONFIRM_SALT).dumps([public_id, ALL_LISTS])


def read_confirm_token(token: str) -> str:
    """The subscriber public id a confirmation token names, if it is genuine and under 7 days old."""
    serializer = URLSafeTimedSerializer(secret_keys(), salt=CONFIRM_SALT)
    try:
        payload = serializer.loads(token, max_age=int(CONFIRM_VALIDITY.total_seconds()))
    except SignatureExpired as error:
        raise ExpiredToken("expired") from error
    except BadSignature as error:
        raise InvalidToken("bad signature") from error
    return checked_payload(payload)[0]
