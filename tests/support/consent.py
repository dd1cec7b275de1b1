"""Helpers for the consent tests: make a choice like a visitor, read the cookie and the proof."""

import re
from dataclasses import replace
from datetime import UTC, datetime
from html import unescape

import sqlalchemy as sa

from app.consent.models import ConsentRecord
from app.consent.register import CONSENT_COOKIE, REGISTER, VARIANT_COOKIE
from app.consent.state import ConsentState, decode, encode, variant_value
from app.extensions import db
from tests.conftest import csrf_token

OPTIONAL = [category.key for category in REGISTER.optional]
CHOOSE_URL = {"fr": "/cookies/choix", "en": "/en/cookies/choice"}
PREFERENCES_URL = {"fr": "/cookies", "en": "/en/cookies"}
BANNER_MARK = 'id="cc"'
JSON = {"Accept": "application/json"}


def visible_text(html: str) -> str:
    """The page's text, tags removed, spaces folded."""
    return re.sub(r"[\s\u00a0\u202f]+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def banner_shown(html: str) -> bool:
    """Whether the page carries the consent banner."""
    return BANNER_MARK in html


def choose(client, choice: str, page: str = "/", lang: str = "fr", next_path: str | None = None, **kwargs):
    """Open a page, then press a banner button (as a browser without JavaScript would)."""
    html = client.get(page).get_data(as_text=True)
    data = {"csrf_token": csrf_token(html), "choice": choice, "next": page if next_path is None else next_path}
    return client.post(CHOOSE_URL[lang], data=data, **kwargs)


def save_preferences(client, choice: str = "save", categories=(), lang: str = "fr", next_path: str = "", **kwargs):
    """Open the preferences page and submit it."""
    url = PREFERENCES_URL[lang]
    html = client.get(url, headers=kwargs.get("headers")).get_data(as_text=True)
    data = {"csrf_token": csrf_token(html), "choice": choice, "categories": list(categories), "next": next_path}
    return client.post(url, data=data, **kwargs)


def cookie_state(client) -> ConsentState | None:
    """The consent cookie the browser holds, decoded (inside an app context)."""
    cookie = client.get_cookie(CONSENT_COOKIE)
    return decode(cookie.value) if cookie else None


def give_cookie(client, choices: dict[str, bool] | None = None, version: str | None = None,
                decided_at: datetime | None = None, consent_id: str = "11111111-2222-4333-8444-555555555555",
                complete: bool = True, gpc: bool = False) -> ConsentState:
    """Put the cookies a choice leaves in the client, as a browser keeps them (inside an app context): the signed
    consent cookie, and its page variant until its Max-Age runs out (the test client never expires a cookie)."""
    state = ConsentState(
        consent_id=consent_id, choices=choices if choices is not None else dict.fromkeys(OPTIONAL, False),
        version=version or REGISTER.version, decided_at=decided_at or datetime.now(UTC).replace(microsecond=0),
        complete=complete, gpc=gpc,
    )
    client.set_cookie(CONSENT_COOKIE, encode(state))
    if state.expires_at > datetime.now(UTC):
        client.set_cookie(VARIANT_COOKIE, variant_value(state))
    return state


def all_choices(value: bool) -> dict[str, bool]:
    """Every optional category accepted or refused."""
    return dict.fromkeys(OPTIONAL, value)


def records() -> list[ConsentRecord]:
    """Every consent record, oldest first (fresh from the database)."""
    db.session.expire_all()
    return list(db.session.scalars(sa.select(ConsentRecord).order_by(ConsentRecord.id)))


def register_with_version(version: str):
    """The register as it would be after an edit."""
    return replace(REGISTER, version=version)


def set_cookie_headers(response) -> list[str]:
    """Every Set-Cookie header of a response."""
    return response.headers.getlist("Set-Cookie")


def expired_cookies(response) -> list[tuple[str, str | None]]:
    """(name, domain) of every cookie the response expires."""
    found = []
    for header in set_cookie_headers(response):
        if "Max-Age=0" in header or "Expires=Thu, 01 Jan 1970" in header:
            name = header.split("=", 1)[0]
            domain = re.search(r"Domain=([^;]+)", header)
            found.append((name, domain.group(1) if domain else None))
    return found
