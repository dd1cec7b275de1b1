"""Per-request consent work: record a GPC signal, expire refused cookies, and give templates what they need
(banner, tags, Consent Mode).

Views that record a choice set the consent cookie themselves with `remember_choice`; the one exception is the GPC
signal recorded before a page is rendered, which `apply_consent` below writes (kept in `g.gpc_state`)."""

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import sqlalchemy as sa
from babel.lists import format_list
from flask import current_app, g, request, session
from flask_babel import get_locale
from markupsafe import Markup
from werkzeug.exceptions import SecurityError

from app.consent import bp
from app.consent.expiry import expire_cookies, names_to_expire
from app.consent.models import ConsentRecord
from app.consent.register import CONSENT_COOKIE, REGISTER, VARIANT_COOKIE, Register
from app.consent.services import (
    GPC,
    GPC_SIGNAL,
    HEADER,
    banner_needed,
    choices_for,
    current_choice,
    current_register,
    effective_choices,
    gpc_requested,
    new_consent_id,
    page_gpc,
    record_choice,
)
from app.consent.state import ConsentState, read_state, request_cache, write_cookie
from app.consent.tags import consent_mode_script, page_tag_hosts, tag_list
from app.extensions import db
from app.headers import allow_sources, public_page

NO_BANNER_ENDPOINTS = {"consent.preferences"}
CONSENT_COOKIE_SET = f"{CONSENT_COOKIE}="
MAX_CONSENT_PAGES = 256
GPC_SESSION_KEY = "gpc_recorded"  # the register version whose GPC refusal this session has already recorded


@bp.before_app_request
def record_gpc_signal() -> None:
    """A page request with `Sec-GPC: 1` and no choice yet: honour the refusal GPC asks for, recorded once."""
    if request.method == "GET" and gpc_requested() and request.endpoint not in (None, "static"):
        g.gpc_state = record_gpc_once(HEADER)


def record_gpc_once(channel: str) -> ConsentState | None:
    """At most one proof record per visitor and GPC signal; None when nothing new is to be remembered.

    A visitor is only known by the cookie they send back: at first sight the header gets a consent cookie holding
    an unrecorded GPC default, and the record is written when that cookie comes back (a client that drops cookies
    writes nothing, however many pages it asks for). A consent id is recorded once, whatever cookie is replayed.
    """
    state, version = read_state(), current_register().version
    if current_choice() or session.get(GPC_SESSION_KEY) == version:
        return None
    if state is not None and state.gpc and state.version == version and state.recorded:
        return None
    if channel == HEADER and (state is None or state.version != version):
        return unrecorded_gpc_state(state.consent_id if state else new_consent_id(), version)
    if state is not None and gpc_recorded(state.consent_id, version):
        session[GPC_SESSION_KEY] = version
        return replace(state, recorded=True)
    session[GPC_SESSION_KEY] = version
    return record_choice(GPC_SIGNAL, GPC, channel, gpc=True)


def unrecorded_gpc_state(consent_id: str, version: str) -> ConsentState:
    """The GPC default for a visitor seen for the first time (this request reads it too)."""
    state = ConsentState(consent_id, choices_for(GPC_SIGNAL, gpc=True), version,
                         datetime.now(UTC).replace(microsecond=0), complete=False, gpc=True, recorded=False)
    request_cache()["state"] = request_cache()["made"] = state
    return state


def gpc_recorded(consent_id: str, version: str) -> bool:
    """Whether this consent id's GPC refusal is already in the proof table for this register version."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(ConsentRecord).where(
        ConsentRecord.consent_id == consent_id, ConsentRecord.action == GPC_SIGNAL,
        ConsentRecord.register_version == version)) > 0


@bp.after_app_request
def apply_consent(response):
    """Remember a GPC default recorded for this page; else expire cookies of categories not accepted."""
    asked = request._get_current_object()
    if "page" in request_cache():
        response.vary.add("Sec-GPC")  # the banner and the tags depend on the signal
    if asked.endpoint == "static" or sets_consent_cookie(response) or isinstance(
            asked.routing_exception, SecurityError):  # a host outside TRUSTED_HOSTS: no page, no cookie work
        return response
    if g.get("gpc_state") is not None:
        return remember_choice(response, g.gpc_state)
    own = (CONSENT_COOKIE, VARIANT_COOKIE, current_app.config["SESSION_COOKIE_NAME"])  # necessary: never expired
    others = [name for name in asked.cookies if name not in own]
    if others:
        expire_cookies(response, names_to_expire(effective_choices(), others, include_named=False), asked.host)
    return response


def sets_consent_cookie(response) -> bool:
    """Whether the view already remembered a new choice on this response."""
    return any(name == "Set-Cookie" and value.startswith(CONSENT_COOKIE_SET) for name, value in response.headers)


def remember_choice(response, state: ConsentState):
    """Set the consent cookie of a new choice and expire every cookie of the categories it refuses."""
    write_cookie(response, state)
    expire_cookies(response, names_to_expire(state.choices, list(request.cookies), include_named=True), request.host)
    return response


@dataclass(frozen=True)
class ConsentPage:
    """What a page shows of consent: the banner or not, and the tags it may run (the same for every visitor with the
    same choices, signal and kind of page)."""

    register: Register
    choices: tuple[tuple[str, bool], ...]  # what the page may use, per optional category
    show_banner: bool
    gpc: bool
    tags: list[dict]
    consent_mode: Markup | None
    tags_allowed: bool = False  # a public page: the banner's script may start accepted tags here
    csp: dict[str, list[str]] = field(default_factory=dict)  # the tag hosts this page opens its CSP to

    @property
    def purposes(self) -> str:
        """The optional categories' purposes in one phrase (« la mesure d’audience, … et l’affiliation »)."""
        phrases = [category.purpose_phrase for category in self.register.optional]
        return format_list(phrases, locale=str(get_locale() or "fr")) if phrases else ""


@bp.app_template_global()
def consent_page() -> ConsentPage:
    """Consent for the page being rendered; on a public page only, the accepted tags and their CSP hosts."""
    cache = request_cache()
    if "page" not in cache:
        register = current_register()
        show_banner = banner_needed() and request.endpoint not in NO_BANNER_ENDPOINTS
        cache["page"] = page = consent_page_for(register, tuple(effective_choices().items()), show_banner,
                                                page_gpc(), public_page())
        for directive, hosts in page.csp.items():
            allow_sources(directive, *hosts)
    return cache["page"]


CONSENT_PAGES: dict[tuple, ConsentPage] = {}


def consent_page_for(register: Register, choices: tuple, show_banner: bool, gpc: bool,
                     tags_allowed: bool) -> ConsentPage:
    """The consent part of a page for these choices, worked out once (pages keep the register they were made with)."""
    key = (id(register), register.version, choices, show_banner, gpc, tags_allowed)
    page = CONSENT_PAGES.get(key)
    if page is None or page.register is not register:
        accepted = dict(choices)
        page = ConsentPage(
            register=register, choices=choices, show_banner=show_banner, gpc=gpc,
            tags=tag_list(accepted) if tags_allowed else [],
            consent_mode=consent_mode_script(accepted) if register.has_google_tag and tags_allowed else None,
            tags_allowed=tags_allowed, csp=page_tag_hosts(accepted, show_banner) if tags_allowed else {},
        )
        if len(CONSENT_PAGES) >= MAX_CONSENT_PAGES:
            CONSENT_PAGES.clear()
        CONSENT_PAGES[key] = page
    return page


def page_variant_key() -> tuple:
    """What a public page depends on of consent: what `consent_page` is made of (worked out without making it, so an
    error page rendered later in the request still makes its own, private one)."""
    show_banner = banner_needed() and request.endpoint not in NO_BANNER_ENDPOINTS
    return current_register().version, tuple(effective_choices().items()), show_banner, page_gpc(), public_page()


@bp.app_template_global()
def consent_loader() -> Markup:
    """The inline script that loads the banner's script once the page has loaded (read once)."""
    return Markup(loader_source())


@cache
def loader_source() -> str:
    """static/consent/loader.js, minified of its indentation."""
    path = Path(bp.root_path).parent.parent / "static" / "consent" / "loader.js"
    return " ".join(line.strip() for line in path.read_text(encoding="utf-8").splitlines())


@bp.app_template_global()
def cookie_register() -> Register:
    """The register, for the policy's cookie table."""
    return current_register()


@bp.record_once
def refuse_unsound_register(state) -> None:
    """Stop at start-up when the register breaks a rule (a lifetime over 13 months, no necessary category...)."""
    problems = (state.app.config.get("CONSENT_REGISTER") or REGISTER).problems()
    if problems:
        raise RuntimeError("The cookie register is invalid: " + "; ".join(problems))
