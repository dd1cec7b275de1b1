"""Consent views: the banner's choice, the preferences page, the JavaScript GPC signal."""

from flask import current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.consent import bp
from app.consent.forms import BannerForm, PreferencesForm
from app.consent.hooks import record_gpc_once, remember_choice
from app.consent.services import (
    BANNER,
    CUSTOM,
    JS,
    NO_JS,
    PREFERENCES,
    current_choice,
    current_register,
    page_choice,
    page_gpc,
    record_choice,
)
from app.consent.tags import consent_mode, tag_list
from app.extensions import limit_posts, limiter
from app.i18n import localized_route
from app.pagecache import cached_page
from app.urls import safe_next

GPC_SUPPORT_SINCE = "2026-11-30"  # when the site began to record the signal once per visitor (the GPC spec's date)
PREFERENCE_ACTIONS = {"save": CUSTOM, "accept_all": "accept_all", "refuse_all": "refuse_all"}


def wants_json() -> bool:
    """The JavaScript enhancement asks for JSON; a plain form post asks for HTML."""
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


def saved_message() -> str:
    """What the visitor reads once a choice is recorded."""
    return _("Vos choix en matière de cookies sont enregistrés. Vous pouvez les modifier à tout moment "
             "depuis le lien «\u00a0Gestion des cookies\u00a0» en bas de page.")


@localized_route(bp, "/cookies/choix", "/en/cookies/choice", methods=["POST"])
@limiter.limit("30/minute")
def choose(lang: str):
    """A banner button: record the choice, then answer JSON to `fetch` or go back (303) to a local page."""
    form = BannerForm()
    if not form.validate_on_submit():
        message = next(iter(form.errors.values()))[0] if form.errors else _("Ce choix n’existe pas.")
        if wants_json():
            return jsonify(ok=False, error=message), 400
        flash(message, "error")
        return redirect(safe_next(form.next.data) or url_for("main.home"), 303)
    state = record_choice(form.choice.data, BANNER, JS if wants_json() else NO_JS)
    if wants_json():
        register = current_register()
        return remember_choice(jsonify(
            ok=True, message=saved_message(), choices=state.choices, tags=tag_list(state.choices),
            consent_mode=consent_mode(state.choices) if register.has_google_tag else None), state)
    flash(saved_message(), "success")
    return remember_choice(redirect(safe_next(form.next.data) or url_for("main.home"), 303), state)


@localized_route(bp, "/cookies", "/en/cookies", methods=["GET", "POST"])
@limit_posts("30/minute")
@cached_page
def preferences(lang: str):
    """A toggle per category (off by default), save, refuse all, accept all; GPC said when it applies."""
    register, choice = current_register(), page_choice()
    if request.method == "GET":
        return render_template("consent/preferences.html", **preferences_context(register, choice))
    form = PreferencesForm(register)
    if form.validate_on_submit():
        state = record_choice(PREFERENCE_ACTIONS[form.choice.data], PREFERENCES, NO_JS, form.categories.data or [])
        flash(saved_message(), "success")
        return remember_choice(redirect(safe_next(form.next.data) or url_for("consent.preferences"), 303), state)
    return render_template("consent/preferences.html", form=form, register=register, choice=choice,
                           gpc=page_gpc()), 400


def preferences_context(register, choice) -> dict:
    """The preferences page as first shown: the categories of the choice it shows ticked."""
    form = PreferencesForm(register)
    form.next.data = safe_next(request.args.get("next")) or ""
    form.categories.data = sorted(choice.accepted) if choice else []
    return {"form": form, "register": register, "choice": choice, "gpc": page_gpc()}


@localized_route(bp, "/cookies/mon-choix", "/en/cookies/my-choice")
def my_choice(lang: str):
    """The visitor's own choice: when it was made, until when it holds, its consent id (never kept by a cache)."""
    return render_template("consent/my_choice.html", choice=current_choice())


@bp.post("/cookies/gpc")
@limiter.limit("10/minute")
def gpc_signal():
    """`navigator.globalPrivacyControl` seen by the script: record the advertising refusal (source GPC)."""
    state = record_gpc_once(JS)
    response = jsonify(ok=True, recorded=state is not None)
    return remember_choice(response, state) if state else response


@bp.get("/.well-known/gpc.json")
def gpc_support():
    """The Global Privacy Control support resource: this site honours the signal."""
    response = jsonify(gpc=True, lastUpdate=GPC_SUPPORT_SINCE)
    response.cache_control.max_age = 86400
    return response


@bp.get("/cookies/etat.json")
def shared_state():
    """The visitor's current choice for the company's other sites (no identifier), readable by the origins in
    CONSENT_SHARED_ORIGINS with credentials; private, never stored."""
    choice = current_choice()
    response = jsonify(decided=False) if choice is None else jsonify(
        decided=True, categories=choice.choices, version=choice.version, gpc=choice.gpc,
        decided_at=choice.decided_at.isoformat(), expires_at=choice.expires_at.isoformat())
    origin = request.headers.get("Origin")
    if origin and origin in current_app.config["CONSENT_SHARED_ORIGINS"]:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
    response.vary.add("Origin")
    return response
