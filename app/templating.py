"""Helpers every template can use: optional links, the page's language, dates, French typography, inline CSS."""

import re
from functools import cache
from pathlib import Path

from flask import Flask, current_app, url_for
from flask_babel import force_locale, format_date, format_datetime, get_locale
from markupsafe import Markup
from werkzeug.routing import BuildError

from app.forms import NOT_SENT, error_links, failed_forms
from app.i18n import LOCALIZED_ENDPOINTS, french_typography
from app.urls import site_url

CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)


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


def inline_css(filename: str) -> Markup:
    """A stylesheet of static/ for an inline <style> (allowed by its hash): no request stands between the page and
    its first paint."""
    path = Path(current_app.static_folder) / filename
    return Markup(compact_css(path, path.stat().st_mtime_ns))


@cache
def compact_css(path: Path, _version: int) -> str:
    """A stylesheet without its comments and indentation, on one line (read again only when the file changes)."""
    text = CSS_COMMENT.sub("", path.read_text(encoding="utf-8"))
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


# Dates in each page's language: French as written in France, English as in the United Kingdom (a European site).
FORMAT_LOCALES = {"fr": "fr_FR", "en": "en_GB"}
FRENCH_MONTHS = "janv|févr|mars|avr|mai|juin|juil|août|sept|oct|nov|déc"  # the stems of the full and short names
FIRST_OF_MONTH = re.compile(rf"(?<![\d/.])1(?= (?:{FRENCH_MONTHS}))")


def premier(text: str) -> str:
    """« 1er juin 2027 », as French writes the first day of a month (« 2 juin » stays as it is)."""
    return FIRST_OF_MONTH.sub("1er", text)


def page_date(value, format: str | None = None) -> str:
    """A date in the page's language (Flask-Babel's `dateformat`, in Paris time, with « 1er » in French)."""
    with force_locale(FORMAT_LOCALES.get(current_lang(), current_lang())):
        text = format_date(value, format)
    return premier(text) if current_lang() == "fr" else text


def page_datetime(value, format: str | None = None) -> str:
    """A date and time in the page's language (Flask-Babel's `datetimeformat`, with « 1er » in French)."""
    with force_locale(FORMAT_LOCALES.get(current_lang(), current_lang())):
        text = format_datetime(value, format)
    return premier(text) if current_lang() == "fr" else text


def init_app(app: Flask) -> None:
    """Register the template helpers."""
    app.jinja_env.globals.update(
        optional_url=optional_url, current_lang=current_lang, site_url=site_url, inline_css=inline_css,
        localized_endpoints=LOCALIZED_ENDPOINTS, failed_forms=failed_forms, error_links=error_links,
        form_not_sent=NOT_SENT,
    )
    app.jinja_env.filters["typo"] = typography
    app.jinja_env.filters.update(dateformat=page_date, datetimeformat=page_datetime)
