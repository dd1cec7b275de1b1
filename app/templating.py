"""Helpers every template can use, and pages rendered once and served many times."""

import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from flask import Flask, Request, current_app, g, render_template, request, session, url_for
from flask_babel import force_locale, format_date, format_datetime, get_locale
from markupsafe import Markup
from werkzeug.routing import BuildError

from app.i18n import LOCALIZED_ENDPOINTS, french_typography
from app.urls import site_url

# Stand-ins written where the per-request nonce and CSRF token go; plain ASCII so escaping leaves them as they are.
NONCE_MARK = "kinv0shared0nonce0mark"
CSRF_MARK = "kinv0shared0csrf0mark"
MAX_SHARED_PAGES = 512
SHARED_PAGE = "kinv.shared_page"  # in a request's environ: its answer is a shared page (app.kept_pages keeps those)
CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
# What else a shared page depends on (the consent banner and tags, ...): each returns a hashable value.
PAGE_VARIANTS: list[Callable[[], Hashable]] = []


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
    """A stylesheet of static/ for a nonce'd <style>: no request stands between the page and its first paint."""
    path = Path(current_app.static_folder) / filename
    return Markup(compact_css(path, path.stat().st_mtime_ns))


@cache
def compact_css(path: Path, _version: int) -> str:
    """A stylesheet without its comments and indentation, on one line (read again only when the file changes)."""
    text = CSS_COMMENT.sub("", path.read_text(encoding="utf-8"))
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def vary_shared_pages(variant: Callable[[], Hashable]) -> None:
    """Add something shared pages depend on besides their template, key, language and path."""
    if variant not in PAGE_VARIANTS:
        PAGE_VARIANTS.append(variant)


def render_shared(template: str, key: Hashable = (), context: Callable[[], dict] = dict) -> str | bytes:
    """Render a page once per key, language, path and page variant; each request only fills in its nonce and token.

    `context` builds the template's values (called only when the page is rendered); the caller vouches that they
    depend on nothing but `key`. Pages with a query string, a flash message or a form posted, and every page in
    debug mode, are rendered afresh.
    """
    asked, app = request._get_current_object(), current_app._get_current_object()
    if not shareable(asked, app):
        return render_template(template, **context())
    lang = str(get_locale())
    asked.environ[SHARED_PAGE] = SharedServing(g._get_current_object(), asked.url_rule.endpoint, asked.url_rule.rule,
                                               lang)
    cache = app.extensions.setdefault("kinv.shared_pages", {})
    full_key = (template, key, lang, asked.host, asked.path, *(v() for v in PAGE_VARIANTS))
    page = cache.get(full_key)
    if page is None:
        page = SharedPage.cut(render_with_marks(template, context()))
        if len(cache) >= MAX_SHARED_PAGES:
            cache.clear()
        cache[full_key] = page
    return page.fill_in()


def shareable(asked: Request, app: Flask) -> bool:
    """Whether this request may be served a page rendered for another one."""
    return asked.method in ("GET", "HEAD") and not asked.query_string and "_flashes" not in session and not app.debug


def render_with_marks(template: str, context: dict) -> str:
    """Render with the marks in place of this request's nonce and CSRF token (kept for the request)."""
    saved = {name: g.pop(name) for name in ("csp_nonce", "csrf_token") if name in g}
    g.csp_nonce, g.csrf_token = NONCE_MARK, CSRF_MARK
    try:
        return render_template(template, **context)
    finally:
        del g.csp_nonce, g.csrf_token
        for name, value in saved.items():
            setattr(g, name, value)


@dataclass(frozen=True)
class SharedServing:
    """How a shared page was answered: the request's `g` (its nonce and CSRF token, read once the answer is made), its
    endpoint, route and language."""

    values: object
    endpoint: str
    route: str
    lang: str


NONCE_BYTES, CSRF_BYTES = NONCE_MARK.encode(), CSRF_MARK.encode()
MARKS = re.compile(b"(" + NONCE_BYTES + b"|" + CSRF_BYTES + b")")


@dataclass(frozen=True)
class SharedPage:
    """A rendered page as UTF-8 bytes, cut where each request's nonce and CSRF token go (encoded and searched once)."""

    pieces: tuple[bytes, ...]  # text, mark, text, mark, …, text

    @classmethod
    def cut(cls, html: str) -> "SharedPage":
        """The page cut at its marks."""
        return cls(tuple(MARKS.split(html.encode())))

    def fill_in(self) -> bytes:
        """This request's page: its nonce and CSRF token in the marks' places (the token only where there is a form)."""
        marks = self.pieces[1::2]
        if not marks:
            return self.pieces[0]
        values = {}
        helpers = current_app.jinja_env.globals  # the nonce and token helpers templates call (app.security's)
        if NONCE_BYTES in marks:
            values[NONCE_BYTES] = helpers["csp_nonce"]().encode()
        if CSRF_BYTES in marks:
            values[CSRF_BYTES] = helpers["csrf_token"]().encode()
        pieces = list(self.pieces)
        pieces[1::2] = [values[mark] for mark in marks]
        return b"".join(pieces)


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
        localized_endpoints=LOCALIZED_ENDPOINTS,
    )
    app.jinja_env.filters["typo"] = typography
    app.jinja_env.filters.update(dateformat=page_date, datetimeformat=page_datetime)
