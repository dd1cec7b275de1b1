"""Staff login in two steps (password, then the TOTP code; enrolment the first time), logout, session lifetimes."""

import time

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from app.auth import bp, services
from app.auth.forms import CodeForm, LoginForm, LogoutForm
from app.auth.models import StaffUser
from app.config import STAFF_SESSION_MAX_SECONDS
from app.extensions import db, limit_posts, limiter
from app.personal import keyed_hash, normalise_email, truncate_ip
from app.urls import safe_next

PENDING_KEY, NEXT_KEY = "staff_pending", "staff_next"
LOGIN_AT, SEEN_AT = "staff_login_at", "staff_seen_at"
PENDING_LIFETIME = 300  # seconds between the password and the code
IDLE_TIMEOUT, ABSOLUTE_TIMEOUT = 30 * 60, STAFF_SESSION_MAX_SECONDS


@bp.before_app_request
def end_stale_sessions():
    """A staff session ends after 30 minutes without a request or 12 hours after login, whatever happens."""
    if "_user_id" not in session:
        return None
    now = time.time()
    if now - session.get(SEEN_AT, 0) > IDLE_TIMEOUT or now - session.get(LOGIN_AT, 0) > ABSOLUTE_TIMEOUT:
        logout_user()
        session.clear()
        flash(_("Votre session a expiré\u202f: reconnectez-vous."), "error")
        return redirect(url_for("auth.login", next=safe_next(request.path, within="/admin")))
    session[SEEN_AT] = now
    return None


def account_and_network() -> str:
    """Whom failures are counted against: the address typed (or the account of the code step) and the client's
    network (/24, /48), keyed."""
    if request.endpoint == "auth.login":
        account = normalise_email(request.form.get("email", ""))
    else:  # the code steps: the account whose password passed, whatever the post carries
        account = (session.get(PENDING_KEY) or {}).get("id")
    return keyed_hash(f"login:{account}|{truncate_ip(request.remote_addr)}")


def refused(response) -> bool:
    """A post that did not pass (wrong password or code, or an invalid form)."""
    return response.status_code == 400


# Failures slow down, then stop, one client trying one account (3 a minute, 10 an hour); the account itself is never
# locked, so a stranger cannot keep its owner out.
throttle_failures = limiter.limit("3/minute;10/hour", key_func=account_and_network, methods=["POST"],
                                  deduct_when=refused)


@bp.route("/connexion", methods=["GET", "POST"])
@limit_posts("5/minute;30/hour")
@throttle_failures
def login():
    """E-mail and password; the same message and the same work for any wrong part; then the second factor."""
    form = LoginForm()
    if form.validate_on_submit():
        user = services.check_password(form.email.data, form.password.data, truncate_ip(request.remote_addr))
        if user is not None:
            start_second_step(user, safe_next(request.args.get("next"), within="/admin"))
            endpoint = "auth.second_factor" if user.totp_enrolled_at else "auth.enrol"
            return redirect(url_for(endpoint), 303)
        form.form_errors.append(_("Adresse e-mail ou mot de passe incorrect. Après plusieurs échecs, les essais "
                                  "depuis votre réseau sont ralentis."))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


def start_second_step(user: StaffUser, next_path: str | None) -> None:
    """A fresh session (and CSRF token) that only remembers who passed the password, for 5 minutes."""
    session.clear()
    session[PENDING_KEY] = {"id": user.id, "token": user.session_token, "at": time.time()}
    if next_path:
        session[NEXT_KEY] = next_path


def pending_user() -> StaffUser:
    """The account whose password was just checked (the login page again when there is none)."""
    pending = session.get(PENDING_KEY) or {}
    user = db.session.get(StaffUser, pending.get("id") or 0)
    fresh = time.time() - pending.get("at", 0) < PENDING_LIFETIME
    if user is None or not user.active or not fresh or pending.get("token") != user.session_token:
        abort(redirect(url_for("auth.login"), 303))
    return user


@bp.route("/verification", methods=["GET", "POST"])
@limit_posts("5/minute;30/hour")
@throttle_failures
def second_factor():
    """The code of the authenticator app (or a recovery code)."""
    user = pending_user()
    if user.totp_enrolled_at is None:
        return redirect(url_for("auth.enrol"), 303)
    form = CodeForm()
    if form.validate_on_submit():
        if services.verify_second_factor(user, form.code.data, truncate_ip(request.remote_addr)):
            return finish_login(user)
        form.code.errors.append(_("Code incorrect ou déjà utilisé."))
    return render_template("auth/second_factor.html", form=form), 400 if form.errors else 200


@bp.route("/activation", methods=["GET", "POST"])
@limit_posts("5/minute;30/hour")
@throttle_failures
def enrol():
    """First login: scan the QR code, type a first code, note the recovery codes shown once."""
    user = pending_user()
    if user.totp_enrolled_at is not None:
        return redirect(url_for("auth.second_factor"), 303)
    form = CodeForm()
    if form.validate_on_submit():
        enrolment = services.enrol(user, form.code.data, truncate_ip(request.remote_addr))
        if enrolment is not None:
            finish_login(user)
            return render_template("auth/recovery_codes.html", codes=enrolment.recovery_codes)
        form.code.errors.append(_("Code incorrect\u202f: vérifiez l’heure de votre téléphone et réessayez."))
    return render_template("auth/enrol.html", form=form, qr_code=services.qr_code_svg(user),
                           secret=user.totp_secret), 400 if form.errors else 200


def finish_login(user: StaffUser):
    """Both factors passed (and the login recorded): a new session (and CSRF token) for the staff member."""
    next_path = session.get(NEXT_KEY)
    session.clear()
    login_user(user)
    session[LOGIN_AT] = session[SEEN_AT] = time.time()
    return redirect(next_path or url_for("backoffice.queue"), 303)


@bp.route("/deconnexion", methods=["POST"])
def logout():
    """End the staff session, and every copy of it: the account's session token changes."""
    if LogoutForm().validate_on_submit() and current_user.is_authenticated:
        services.end_sessions(current_user)
        logout_user()
        session.clear()
    return redirect(url_for("auth.login"), 303)
