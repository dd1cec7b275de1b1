"""The dpo publishes a new version of the policy: texts pasted or uploaded, a preview as visitors will see it, the
changes against the version in force, then the same publication as `flask policy publish`."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.backoffice import bp
from app.backoffice.forms import PolicyForm
from app.database import utcnow
from app.extensions import db
from app.policy.diff import paragraph_diff
from app.policy.models import PolicyVersion
from app.policy.services import (
    CONTROLLER_ADDRESS,
    CONTROLLER_NAME,
    PolicyError,
    all_versions,
    check_texts,
    current_version,
    publish,
    version_by_id,
)
from app.policy.text import parse_policy, typeset_sections

# Two texts of up to 60,000 characters each, pasted or uploaded (the site's other forms stay under 64 KB).
POLICY_FORM_MAX_BYTES = 512 * 1024


def preview(form: PolicyForm, in_force: PolicyVersion | None) -> dict:
    """What the page shows before publishing: the new text as visitors will read it, and what changed."""
    text_fr = form.text_fr.data or ""
    draft = PolicyVersion(number=(in_force.number + 1) if in_force else 1, published_at=utcnow(),
                          summary=form.summary.data or "", text_fr=text_fr, text_en=form.text_en.data or None)
    document = parse_policy(text_fr)
    english = parse_policy(draft.text_en) if draft.text_en else None
    return {"draft": draft, "document": document, "blocks": typeset_sections(document),
            "english": english, "english_blocks": typeset_sections(english) if english else [],
            "hunks": paragraph_diff(in_force.text_fr if in_force else "", text_fr)}


@bp.url_value_preprocessor
def larger_body_for_the_policy(endpoint: str | None, _values: dict | None) -> None:
    """The publication form's body may pass the site's 64 KB: said before any hook reads the form."""
    if endpoint == "backoffice.policy":
        request.max_content_length = POLICY_FORM_MAX_BYTES


@bp.route("/politique", methods=["GET", "POST"])
def policy():
    """The form (dpo only); « Prévisualiser » shows the preview and the changes, « Publier » publishes."""
    if not current_user.is_dpo:
        abort(403)
    form, in_force = PolicyForm(), current_version()
    in_force = version_by_id(in_force.id) if in_force else None
    if not form.validate_on_submit():
        return render_policy_page(form, in_force, status=400 if form.is_submitted() else 200)
    try:
        check_texts(form.text_fr.data or "", form.summary.data or "", form.text_en.data)
    except PolicyError as error:
        form.text_fr.errors.append(str(error))
        return render_policy_page(form, in_force, status=400)
    if request.form.get("action") != "publish":
        return render_policy_page(form, in_force, **preview(form, in_force))
    version, notified = publish(form.text_fr.data, form.summary.data, form.text_en.data, form.material.data,
                                published_by=current_user.email)
    flash(_("Version %(number)d publiée\u202f; avis envoyés\u00a0: %(count)d.", number=version.number,
            count=notified), "success")
    return redirect(url_for("backoffice.policy"), 303)


def render_policy_page(form: PolicyForm, in_force: PolicyVersion | None, status: int = 200, **shown):
    """The publication page: the form, kept as typed, what was published and by whom, and any preview."""
    if status == 400:
        db.session.rollback()
        flash(_("Rien n’a été publié\u00a0: corrigez les champs signalés."), "error")
    return render_template("backoffice/policy.html", form=form, in_force=in_force, versions=all_versions(),
                           controller_name=CONTROLLER_NAME, controller_address=CONTROLLER_ADDRESS, **shown), status
