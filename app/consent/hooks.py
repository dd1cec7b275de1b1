"""Per-request consent work: record a GPC signal, set the consent cookie, expire refused cookies, and
give templates what they need (banner, tags, Consent Mode)."""

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel.lists import format_list
from flask import request
from flask_babel import get_locale
from markupsafe import Markup

from app.consent import bp
from app.consent.expiry import expire_cookies, names_to_expire
from app.consent.register import Register
from app.consent.services import (
    HEADER,
    banner_needed,
    current_choice,
    current_register,
    effective_choices,
    gpc_active,
    gpc_requested,
    record_gpc_default,
)
from app.consent.state import ConsentState, request_cache, write_cookie
from app.consent.tags import allow_pending_tag_sources, allow_tag_sources, consent_mode_script, tag_list

NO_BANNER_ENDPOINTS = {"consent.preferences"}


@bp.before_app_request
def record_gpc_signal() -> None:
    """A page request with `Sec-GPC: 1` and no choice yet: record the refusal GPC asks for."""
    if request.method == "GET" and gpc_requested() and request.endpoint not in (None, "static"):
        record_gpc_default(HEADER)


@bp.after_app_request
def apply_consent(response):
    """Set the consent cookie after a new choice; expire cookies of categories the visitor has not accepted."""
    new_state: ConsentState | None = request_cache().pop("new_state", None)
    if new_state is not None:
        write_cookie(response, new_state)
    if request.endpoint == "static":
        return response
    choices = new_state.choices if new_state else effective_choices()
    names = names_to_expire(choices, list(request.cookies), include_named=new_state is not None)
    expire_cookies(response, names, request.host)
    return response


@dataclass(frozen=True)
class ConsentPage:
    """What a page shows of consent: the banner or not, and the tags it may run."""

    register: Register
    choice: ConsentState | None
    show_banner: bool
    gpc: bool
    tags: list[dict]
    consent_mode: Markup | None

    @property
    def purposes(self) -> str:
        """The optional categories' purposes in one phrase (« la mesure d’audience, … et l’affiliation »)."""
        phrases = [category.purpose_phrase for category in self.register.optional]
        return format_list(phrases, locale=str(get_locale() or "fr")) if phrases else ""


@bp.app_template_global()
def consent_page() -> ConsentPage:
    """Consent for the page being rendered (opens the CSP to accepted tags only); cached per request."""
    cache = request_cache()
    if "page" not in cache:
        register, choice = current_register(), current_choice()
        choices = effective_choices()
        allow_tag_sources(choices)
        show_banner = banner_needed() and request.endpoint not in NO_BANNER_ENDPOINTS
        if show_banner:
            allow_pending_tag_sources()
        cache["page"] = ConsentPage(
            register=register, choice=choice, show_banner=show_banner, gpc=gpc_active(),
            tags=tag_list(choices),
            consent_mode=consent_mode_script(choices) if register.has_google_tag else None,
        )
    return cache["page"]


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
    from app.consent.register import REGISTER

    problems = (state.app.config.get("CONSENT_REGISTER") or REGISTER).problems()
    if problems:
        raise RuntimeError("The cookie register is invalid: " + "; ".join(problems))
