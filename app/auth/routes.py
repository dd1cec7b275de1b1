"""Staff login and logout."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_user, logout_user

from app.auth import bp, services
from app.auth.forms import LoginForm, LogoutForm
from app.extensions import limiter
from app.urls import safe_next


@bp.route("/connexion", methods=["GET", "POST"])
@limiter.limit("5/minute;30/hour", methods=["POST"])
def login():
    """E-mail and password; the same message for any wrong part."""
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is not None:
            login_user(user)
            return redirect(safe_next(request.args.get("next"), within="/admin") or url_for("backoffice.queue"), 303)
        flash(_("Adresse e-mail ou mot de passe incorrect."), "error")
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/deconnexion", methods=["POST"])
def logout():
    """End the staff session."""
    if LogoutForm().validate_on_submit():
        logout_user()
    return redirect(url_for("auth.login"), 303)
