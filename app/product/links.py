"""The link the product gives a signed-in customer to their preferences: the address, an expiry, and an HMAC-SHA256
of `<email>.<expires>` keyed with PRODUCT_LINK_SECRET (format and reference code: docs/product.md)."""

import hashlib
import hmac
import time
from collections.abc import Mapping

from flask import current_app

from app.personal import normalise_email

MAX_LIFETIME_SECONDS = 15 * 60  # a link valid longer than this was not made for one click from the account


class AccountLinkRefused(ValueError):
    """A link that is forged, altered, cut or expired (`expired` tells which)."""

    def __init__(self, reason: str, *, expired: bool = False) -> None:
        super().__init__(reason)
        self.expired = expired


def signature(secret: str, email: str, expires: int) -> str:
    """The hex HMAC-SHA256 of `<email>.<expires>` (what the product computes, in the same way)."""
    return hmac.new(secret.encode(), f"{email}.{expires}".encode(), hashlib.sha256).hexdigest()


def signed_email(args: Mapping[str, str], now: float | None = None) -> str:
    """The normalised address a genuine, unexpired link names (AccountLinkRefused otherwise)."""
    secret = current_app.config.get("PRODUCT_LINK_SECRET")
    email, expires, given = args.get("email", ""), args.get("expires", ""), args.get("signature", "")
    if not secret or not email or not expires.isdigit() or len(expires) > 12:
        raise AccountLinkRefused("incomplete link")
    if not hmac.compare_digest(signature(secret, email, int(expires)), given.lower()):
        raise AccountLinkRefused("bad signature")
    now = time.time() if now is None else now
    if int(expires) <= now or int(expires) > now + MAX_LIFETIME_SECONDS:
        raise AccountLinkRefused("expired or too long-lived", expired=True)
    return normalise_email(email)
