"""Back-office views: login, the queue, one request with its timeline and actions."""

from collections.abc import Callable
from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from app.admin import bp, services
from app.admin.forms import ActionForm, AnswerForm, ExtendForm, LoginForm, NoteForm, RectifyForm, RefuseForm
from app.extensions import db, limiter
from app.mail.services import InvalidMessage
from app.rights import fulfilment
from app.rights import models as m
from app.rights.deadlines import urgency
from app.rights.labels import ACTOR_LABELS, EVENT_LABELS, KIND_LABELS, N_, STATUS_LABELS
from app.rights.services import find_by_reference, today


@bp.before_request
def staff_only():
    """Every page but the login page needs a logged-in staff member; nothing is cached."""
    if request.endpoint != "admin.login" and not current_user.is_authenticated:
        return redirect(url_for("admin.login", next=request.path))
    return None


@bp.after_request
def no_store(response):
    """Staff pages hold personal data: never cache them."""
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/connexion", methods=["GET", "POST"])
@limiter.limit("5/minute;30/hour", methods=["POST"])
def login():
    """E-mail and password; the same message for any wrong part."""
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is not None:
            login_user(user)
            return redirect(safe_next(request.args.get("next")), 303)
        flash(_("Adresse e-mail ou mot de passe incorrect."), "error")
    status = 400 if request.method == "POST" else 200
    return render_template("admin/login.html", form=form), status


def safe_next(target: str | None) -> str:
    """Back to the back-office page asked for, never to another site."""
    if target and target.startswith("/admin") and not target.startswith("//"):
        return target
    return url_for("admin.queue")


@bp.route("/deconnexion", methods=["POST"])
def logout():
    """End the staff session."""
    if ActionForm().validate_on_submit():
        logout_user()
    return redirect(url_for("admin.login"), 303)


@bp.route("/")
def queue():
    """Open requests by due date, overdue and due-within-7-days marked; filters by type and status."""
    filters = services.QueueFilter(kind=request.args.get("type") or None, status=request.args.get("statut") or None)
    day = today()
    rows = [(r, urgency(r.deadline, day) if r.is_open else None) for r in services.queue(filters)]
    return render_template("admin/queue.html", rows=rows, filters=filters, kind_labels=KIND_LABELS,
                           status_labels=STATUS_LABELS, today=day)


def request_or_404(reference: str) -> m.RightsRequest:
    """The request with that reference."""
    found = find_by_reference(reference)
    if found is None:
        abort(404)
    return found


@bp.route("/demandes/<reference>")
def request_detail(reference: str):
    """The timeline of every event and the actions this request allows."""
    return render_detail(request_or_404(reference))


def render_detail(found: m.RightsRequest, status: int = 200, **bound):
    """The request page, with any form that failed re-displayed as typed."""
    forms = {"note": NoteForm(formdata=None), "rectify": RectifyForm(formdata=None),
             "extend": ExtendForm(formdata=None), "refuse": RefuseForm(formdata=None),
             "answer": AnswerForm(formdata=None), "action": ActionForm(formdata=None), **bound}
    directives = db.session.scalars(db.select(m.PostMortemDirective).where(
        m.PostMortemDirective.email == found.email).order_by(m.PostMortemDirective.id)).all()
    return render_template(
        "admin/request.html", request_=found, forms=forms, kind_labels=KIND_LABELS, status_labels=STATUS_LABELS,
        event_labels=EVENT_LABELS, actor_labels=ACTOR_LABELS, directives=directives,
        urgency=urgency(found.deadline, today()) if found.is_open else None), status


@dataclass(frozen=True)
class Action:
    """One staff action: its form, what it does, and what the staff member reads after it."""

    form: type
    run: Callable
    done: str


ACTIONS = {
    "note": Action(NoteForm, lambda r, u, f: fulfilment.add_note(r, u, f.text.data), N_("Note ajoutée.")),
    "dossier": Action(ActionForm, lambda r, u, f: fulfilment.send_data_package(r, u),
                      N_("Dossier de données préparé\u00a0; le lien a été envoyé au demandeur.")),
    "effacer": Action(ActionForm, lambda r, u, f: fulfilment.erase(r, u),
                      N_("Données effacées\u00a0; la liste d’opposition et cette demande sont conservées.")),
    "rectifier": Action(RectifyForm, lambda r, u, f: fulfilment.rectify(
        r, u, {"name": f.name.data, "email": f.email.data, "phone": f.phone.data}), N_("Données rectifiées.")),
    "opposition": Action(ActionForm, lambda r, u, f: fulfilment.opt_out_everywhere(r, u),
                         N_("Personne désinscrite de tous les canaux et ajoutée à la liste d’opposition.")),
    "limiter": Action(ActionForm, lambda r, u, f: fulfilment.restrict(r, u), N_("Traitement limité.")),
    "lever-limitation": Action(ActionForm, lambda r, u, f: fulfilment.lift_restriction(r, u),
                               N_("Limitation levée.")),
    "directives": Action(ActionForm, lambda r, u, f: fulfilment.record_directives(r, u),
                         N_("Directives post-mortem enregistrées.")),
    "prolonger": Action(ExtendForm, lambda r, u, f: fulfilment.extend(r, u, int(f.months.data), f.reason.data),
                        N_("Délai prolongé\u00a0; le demandeur est prévenu.")),
    "refuser": Action(RefuseForm, lambda r, u, f: fulfilment.refuse(r, u, f.reason.data),
                      N_("Demande refusée\u00a0; le demandeur est prévenu.")),
    "repondre": Action(AnswerForm, lambda r, u, f: fulfilment.answer(r, u, f.text.data),
                       N_("Réponse envoyée\u00a0; la demande est close.")),
}
FORM_KEYS = {NoteForm: "note", RectifyForm: "rectify", ExtendForm: "extend", RefuseForm: "refuse",
             AnswerForm: "answer", ActionForm: "action"}


@bp.route("/demandes/<reference>/<action>", methods=["POST"])
def act(reference: str, action: str):
    """Run one action; on a refusal or a form error, show the page again with what was typed."""
    found, chosen = request_or_404(reference), ACTIONS.get(action)
    if chosen is None:
        abort(404)
    form = chosen.form()
    if not form.validate_on_submit():
        flash(_("L’action n’a pas été faite\u00a0: corrigez les champs signalés."), "error")
        return render_detail(found, 400, **{FORM_KEYS[chosen.form]: form})
    try:
        chosen.run(found, current_user, form)
    except fulfilment.ActionRefused as refused:
        db.session.rollback()
        flash(str(refused.args[0]), "error")
        return render_detail(found, 409, **{FORM_KEYS[chosen.form]: form})
    except InvalidMessage:  # an address that cannot receive mail (rectification): said next to the field
        db.session.rollback()
        if "email" in form:
            form.email.errors.append(_("Adresse e-mail invalide\u00a0: aucun e-mail ne pourrait y être envoyé."))
        flash(_("L’action n’a pas été faite\u00a0: corrigez les champs signalés."), "error")
        return render_detail(found, 400, **{FORM_KEYS[chosen.form]: form})
    flash(_(chosen.done), "success")
    return redirect(url_for("admin.request_detail", reference=reference), 303)


@bp.route("/directives/<int:directive_id>/revoquer", methods=["POST"])
def revoke(directive_id: int):
    """Revoke post-mortem directives."""
    directive = db.get_or_404(m.PostMortemDirective, directive_id)
    if ActionForm().validate_on_submit():
        fulfilment.revoke_directives(directive, current_user)
        flash(_("Directives révoquées."), "success")
    back = directive.request.reference if directive.request else None
    return redirect(url_for("admin.request_detail", reference=back) if back else url_for("admin.queue"), 303)
