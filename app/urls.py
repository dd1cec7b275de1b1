"""Absolute links for e-mails and commands, built from SITE_URL even outside a request."""

from flask import current_app, has_request_context, url_for


def site_url(endpoint: str, **values) -> str:
    """The absolute address of a page on the public site (SITE_URL + path), with or without a request."""
    base = current_app.config["SITE_URL"]
    if has_request_context():
        return base + url_for(endpoint, **values)
    with current_app.test_request_context("/", base_url=base):
        return base + url_for(endpoint, **values)
