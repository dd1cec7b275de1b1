"""Back-office views: the queue, one request with its timeline and actions."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.backoffice import audit, bp, history, services
from app.backoffice.forms import ActionForm, EraseForm
from app.backoffice.models import Read
from app.connectors import services as connectors
from app.connectors.models import AnswerStatus, CallStatus
from app.extensions import db
from app.mail.services import InvalidMessage
from app.newsletter.events import source_label
from app.newsletter.sms import sms_states_of
from app.rights import fulfilment
from app.rights import models as m
from app.rights.deadlines import Urgency, urgency
from app.rights.fulfilment import Action, offered_actions
from app.rights.labels import ACTOR_LABELS, EVENT_LABELS, KIND_LABELS, STATUS_LABELS
from app.rights.services import find_by_reference, today

FORM_KEYS = services.FORM_KEYS


@bp.before_request
def staff_only():
    """Every back-office page needs a logged-in staff member."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.path))
    return None


@bp.route("/")
def queue():
    """Open requests by due date, overdue and due-within-7-days marked; filters by type and status."""
    filters = services.QueueFilter(kind=request.args.get("type") or None, status=request.args.get("statut") or None)
    audit.record_read(current_user.email, Read.QUEUE, f"type={filters.kind or ''} statut={filters.status or ''}")
    day = today()
    rows = [(r, urgency(r.deadline, day) if r.is_open else None) for r in services.queue(filters)]
    return render_template("backoffice/queue.html", rows=rows, filters=filters, kind_labels=KIND_LABELS,
                           status_labels=STATUS_LABELS, today=day, Urgency=Urgency)


def request_or_404(reference: str) -> m.RightsRequest:
    """The request with that reference."""
    found = find_by_reference(reference)
    if found is None:
        abort(404)
    return found


@bp.route("/demandes/<reference>")
def request_detail(reference: str):
    """The timeline of every event and the actions this request allows (the read goes in the journal)."""
    found = request_or_404(reference)
    audit.record_read(current_user.email, Read.REQUEST, found.reference)
    return render_detail(found)


def render_detail(found: m.RightsRequest, status: int = 200, **bound):
    """The request page, with any form that failed re-displayed as typed."""
    forms = {key: form(formdata=None) for form, key in FORM_KEYS.items()} | bound
    directives = db.session.scalars(db.select(m.PostMortemDirective).where(
        m.PostMortemDirective.email == found.email).order_by(m.PostMortemDirective.id)).all()
    return render_template(
        "backoffice/request.html", request_=found, forms=forms, kind_labels=KIND_LABELS, status_labels=STATUS_LABELS,
        event_labels=EVENT_LABELS, actor_labels=ACTOR_LABELS, directives=directives, Action=Action,
        systems=connectors.calls_for(found.id), CallStatus=CallStatus, AnswerStatus=AnswerStatus,
        offered=offered_actions(found, current_user), Status=m.Status, Urgency=Urgency,
        urgency=urgency(found.deadline, today()) if found.is_open else None,
        sms_states=sms_states_of(found.email, found.phone), source_label=source_label,
        event_details=history.detail_lines), status


@bp.route("/demandes/<reference>/<action>", methods=["POST"])
def act(reference: str, action: str):
    """Run one action; on a refusal or a form error, show the page again with what was typed."""
    found = request_or_404(reference)
    if action not in tuple(Action):
        abort(404)
    step = services.STEPS[Action(action)]
    form = step.form()
    if not form.validate_on_submit():
        return render_detail(found, 400, **{FORM_KEYS[step.form]: form})
    try:
        if step.confirmation and form.confirmed.data != "1":
            fulfilment.require_fit(found, current_user, Action(action))
            return render_confirmation(found, step, form)
        if action == Action.PACKAGE:
            audit.add_read(current_user.email, Read.PACKAGE, found.reference)  # committed with the package
        services.perform(found, current_user, Action(action), form)
    except fulfilment.ActionRefused as refused:
        db.session.rollback()
        form.form_errors.append(str(refused.args[0]))
        return render_detail(found, 409, **{FORM_KEYS[step.form]: form})
    except InvalidMessage:  # an address that cannot receive mail (rectification): said next to the field
        db.session.rollback()
        if "email" in form:
            form.email.errors.append(_("Adresse e-mail invalide\u00a0: aucun e-mail ne pourrait y être envoyé."))
        return render_detail(found, 400, **{FORM_KEYS[step.form]: form})
    flash(_(step.done), "success")
    return redirect(url_for("backoffice.request_detail", reference=reference), 303)


def render_confirmation(found: m.RightsRequest, step: services.Step, form):
    """The page that repeats what an action that cannot be undone will do, and asks to confirm it."""
    return render_template("backoffice/confirm.html", request_=found, step=step, form=form,
                           held=services.data_held(found) if isinstance(form, EraseForm) else None)


@bp.route("/journal")
def journal():
    """The journal of staff reads (dpo only): who read what, when."""
    if not current_user.is_dpo:
        abort(403)
    audit.record_read(current_user.email, Read.JOURNAL, "")
    return render_template("backoffice/journal.html", reads=audit.reads_since(limit=audit.JOURNAL_PAGE),
                           Read=Read, limit=audit.JOURNAL_PAGE)


@bp.route("/directives/<int:directive_id>/revoquer", methods=["POST"])
def revoke(directive_id: int):
    """Revoke post-mortem directives."""
    directive = db.get_or_404(m.PostMortemDirective, directive_id)
    if ActionForm().validate_on_submit():
        fulfilment.revoke_directives(directive, current_user)
        flash(_("Directives révoquées."), "success")
    back = directive.request.reference if directive.request else None
    return redirect(url_for("backoffice.request_detail", reference=back) if back else url_for("backoffice.queue"), 303)
