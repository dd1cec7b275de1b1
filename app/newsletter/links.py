"""What the newsletter's signed links name: the confirmation link (a subscriber, 7 days) and the manage link
(a subscriber and one list or every list, for good), signed through `app.tokens`."""

import re

from itsdangerous import Signer

from app.newsletter.lists import ALL_LISTS, is_list
from app.tokens import NEWSLETTER_CONFIRM, NEWSLETTER_MANAGE, InvalidLink, compact_signer, read, read_compact, sign

PUBLIC_ID = re.compile(r"^[0-9a-f]{32}$")
ALL_IN_TOKEN = "all"  # how « every list » is written inside a manage token


def manage_token(public_id: str, slug: str = ALL_LISTS, signer: Signer | None = None) -> str:
    """A link token naming the subscriber and one list (or every list): `<id>_<list>.<signature>`, no expiry."""
    value = f"{public_id}_{ALL_IN_TOKEN if slug == ALL_LISTS else slug}"
    return (signer or compact_signer(NEWSLETTER_MANAGE)).sign(value).decode()


def read_manage_token(token: str) -> tuple[str, str]:
    """The (subscriber public id, list slug) a manage token names."""
    public_id, _, slug = read_compact(NEWSLETTER_MANAGE, token).partition("_")
    return checked_payload(NEWSLETTER_MANAGE, [public_id, ALL_LISTS if slug == ALL_IN_TOKEN else slug])


def checked_payload(purpose, payload) -> tuple[str, str]:
    """Refuse a payload that is not [public id, known list or every list]."""
    if not (isinstance(payload, list) and len(payload) == 2 and all(isinstance(p, str) for p in payload)):
        raise InvalidLink(purpose, "unexpected payload")
    public_id, slug = payload
    if not PUBLIC_ID.match(public_id) or not (slug == ALL_LISTS or is_list(slug)):
        raise InvalidLink(purpose, "unknown subscriber id or list")
    return public_id, slug


def confirm_token(public_id: str) -> str:
    """A confirmation link token, valid 7 days."""
    return sign(NEWSLETTER_CONFIRM, [public_id, ALL_LISTS])


def read_confirm_token(token: str) -> str:
    """The subscriber public id a confirmation token names, if it is genuine and under 7 days old."""
    return checked_payload(NEWSLETTER_CONFIRM, read(NEWSLETTER_CONFIRM, token))[0]
