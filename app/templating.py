"""Helpers every template can use."""

from flask import Flask, url_for
from flask_babel import get_locale
from werkzeug.routing import BuildError

from app.i18n import LOCALIZED_ENDPOINTS, french_typography
from app.urls import site_url


def optional_url(endpoint: str, **values) -> str | None:
    """The URL of a page, or None when that feature is not installed."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def typography(text) -> str:
    """French typography on French pages; English text is left as it is."""
    text = str(text)
    return french_typography(text) if str(get_locale()) == "fr" else text


def current_lang() -> str:
    """The page's language code."""
    return str(get_locale() or "fr")


def init_app(app: Flask) -> None:
    """Register the template helpers."""
    app.jinja_env.globals.update(
        optional_url=optional_url, current_lang=current_lang, site_url=site_url, localized_endpoints=LOCALIZED_ENDPOINTS
    )
    app.jinja_env.filters["typo"] = typography
