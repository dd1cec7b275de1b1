"""Links: absolute ones for e-mails and commands (from SITE_URL, even outside a request), safe local redirects."""

from urllib.parse import urlsplit

from flask import current_app, has_request_context, url_for


def site_url(endpoint: str, **values) -> str:
    """The absolute address of a page on the public site (SITE_URL + path), with or without a request."""
    base = current_app.config["SITE_URL"]
    if has_request_context():
        return base + url_for(endpoint, **values)
    with current_app.test_request_context("/", base_url=base):
        return base + url_for(endpoint, **values)


def site_host() -> str:
    """The site's host name, from SITE_URL (Message-IDs, List-Id)."""
    return urlsplit(current_app.config["SITE_URL"]).hostname or "localhost"


def safe_next(target: str | None, within: str = "/") -> str | None:
    """A local path under `within` to go back to, or None for anything that could leave the site."""
    if not target or len(target) > 2000 or not target.startswith(within) or target.startswith("//"):
        return None
    if "\\" in target or any(ord(char) < 32 or ord(char) == 127 for char in target):
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target
