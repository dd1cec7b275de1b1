"""Cross-origin protection for every request that can change something, by the browser's own word: Fetch Metadata
(`Sec-Fetch-Site`), else `Origin`; a request with neither is not from a browser and goes through (a mail provider's
one-click unsubscribe, Twilio, a connected system). As Go 1.25's net/http.CrossOriginProtection and OWASP's Fetch
Metadata guidance describe; no token, so public pages carry nothing of the visitor."""

from urllib.parse import urlsplit

from flask import Flask, request
from werkzeug.exceptions import Forbidden

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SAME_SITE_VALUES = frozenset({"same-origin", "none"})  # "none": typed in, a bookmark, a form of the browser itself


class CrossOriginRequest(Forbidden):
    """A state-changing request another site's page made the visitor's browser send."""


def refuse_cross_origin() -> None:
    """Answer 403 to a POST (PUT, PATCH, DELETE) that another origin's page sent."""
    asked = request._get_current_object()
    if asked.method in SAFE_METHODS:
        return
    site = asked.headers.get("Sec-Fetch-Site")
    if site is not None:
        if site.strip().lower() not in SAME_SITE_VALUES:
            raise CrossOriginRequest()
        return
    origin = asked.headers.get("Origin")
    if origin is not None and origin_host(origin) != asked.host.lower():
        raise CrossOriginRequest()


def origin_host(origin: str) -> str | None:
    """The host[:port] an Origin header names (None for `null` or anything that is not an origin)."""
    try:
        parts = urlsplit(origin.strip())
    except ValueError:
        return None
    return parts.netloc.lower() if parts.scheme in ("http", "https") and parts.netloc else None


def init_app(app: Flask) -> None:
    """Check every request before any view runs."""
    app.before_request(refuse_cross_origin)
