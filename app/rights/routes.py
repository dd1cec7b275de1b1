"""Public views: the contact form, confirming the address, following a request, downloading the data."""

import io

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _

from app.database import utcnow
from app.extensions import db, limit_posts
from app.i18n import localized_route
from app.pagecache import cached_page
from app.personal import truncate_ip
from app.policy.services import CONTROLLER_ADDRESS, CONTROLLER_NAME
from app.rights import bp, captcha, services
from app.rights import models as m
from app.rights.deadlines import UNCONFIRMED_LIFETIME
from app.rights.forms import ContactForm
from app.rights.labels import EVENT_LABELS, KIND_LABELS, REQUESTER
from app.tokens import (
    RIGHTS_CONFIRM,
    RIGHTS_DOWNLOAD,
    RIGHTS_STATUS,
    ExpiredLink,
    Purpose,
    read_text,
    require_not_lapsed,
    sign,
)


@bp.context_processor
def statuses() -> dict:
    """The request statuses, for templates to compare with."""
    return {"Status": m.Status}


@localized_route(bp, "/contact", "/en/contact", methods=["GET", "POST"])
@limit_posts("5/minute;30/hour")
@cached_page
def contact(lang: str):
    """The form; a request is stored only once the form and the anti-spam check are both valid."""
    captcha.allow_captcha_sources()
    if request.method != "POST":
        return render_template("rights/contact.html", **contact_context(ContactForm()))
    form = ContactForm()
    if form.validate_on_submit():
        if form.is_bot():
            return redirect(url_for("rights.sent"), 303)
        network = truncate_ip(request.remote_addr)
        result = captcha.or_unchecked(captcha.verify(captcha.token_from(request.form), request.remote_addr),
                                      network, form.email.data)
        if result.ok:
            submitted = services.submit(submission_from(form), language=lang, ip_prefix=network,
                                        without_captcha=result.reason == "unchecked")
            flash(_("Votre demande %(reference)s est enregistrée.", reference=submitted.reference), "success")
            return redirect(url_for("rights.sent"), 303)
        form.form_errors.append(captcha.failure_message(result))
    return render_template("rights/contact.html", **contact_context(form)), 400


def contact_context(form: ContactForm) -> dict:
    """The contact page's values: the form, the anti-spam widget, how long a request waits for confirmation, and
    the other ways to write to us (the controller's postal address, the privacy e-mail address)."""
    return {"form": form, "captcha": captcha.widget(), "confirm_days": UNCONFIRMED_LIFETIME.days,
            "controller": CONTROLLER_NAME, "postal_address": CONTROLLER_ADDRESS,
            "privacy_email": current_app.config["PRIVACY_EMAIL"]}


def submission_from(form: ContactForm) -> services.Submission:
    """The validated fields, with the ones this type of request does not use left out."""
    kind = form.kind.data
    return services.Submission(
        kind=kind, name=form.name.data, email=form.email.data, message=form.message.data,
        phone=form.phone.data or None,
        postal_address=(form.postal_address.data or "").strip() or None if kind in m.OPT_OUT_KINDS else None,
        correction=(form.correction.data or None) if kind == m.Kind.RECTIFICATION else None,
        designated_name=(form.designated_name.data or None) if kind == m.Kind.POST_MORTEM else None,
        designated_contact=(form.designated_contact.data or None) if kind == m.Kind.POST_MORTEM else None)


@localized_route(bp, "/contact/demande-envoyee", "/en/contact/request-sent")
def sent(lang: str):
    """After the form: check your inbox to confirm your address."""
    return render_template("rights/sent.html", confirm_days=UNCONFIRMED_LIFETIME.days)


def request_from(purpose: Purpose, token: str) -> m.RightsRequest:
    """The request a signed link names (404 when it was erased)."""
    found = services.find_by_public_id(read_text(purpose, token))
    if found is None:
        abort(404)
    return found


@localized_route(bp, "/demande/confirmer/<token>", "/en/request/confirm/<token>", methods=["GET", "POST"])
def confirm(lang: str, token: str):
    """GET shows a button (link scanners change nothing); POST confirms the address."""
    found = request_from(RIGHTS_CONFIRM, token)
    if request.method == "POST":
        if not services.confirm(found):
            raise ExpiredLink(RIGHTS_CONFIRM, "request expired")
        flash(_("Merci\u00a0: votre adresse est confirmée, nous traitons votre demande."), "success")
        return redirect(url_for("rights.status", token=sign(RIGHTS_STATUS, found.public_id)), 303)
    return render_template("rights/confirm.html", request_=found)


@localized_route(bp, "/demande/<token>", "/en/request/<token>")
def status(lang: str, token: str):
    """Where the request stands, its public steps, the answer, and the data package while it lasts."""
    found = request_from(RIGHTS_STATUS, token)
    require_not_lapsed(RIGHTS_STATUS, found.closed_at, utcnow())
    packages = [(p, sign(RIGHTS_DOWNLOAD, p.public_id)) for p in found.packages
                if p.content is not None and p.expires_at > utcnow()]
    return render_template("rights/status.html", request_=found, events=services.public_events(found),
                           kind_labels=KIND_LABELS, event_labels=EVENT_LABELS, packages=packages,
                           status_label=services.status_label(found), token=token)


@bp.route("/demande/dossier/<token>")
def download(token: str):
    """The ZIP of the person's data, for 7 days after it was built."""
    public_id = read_text(RIGHTS_DOWNLOAD, token)
    package = db.session.scalar(db.select(m.DataPackage).where(m.DataPackage.public_id == public_id))
    if package is None or package.content is None or package.expires_at <= utcnow():
        raise ExpiredLink(RIGHTS_DOWNLOAD, "package gone")
    package.downloads += 1
    services.log(package.request, "package_downloaded", REQUESTER)
    db.session.commit()
    response = send_file(io.BytesIO(package.content), mimetype="application/zip", as_attachment=True,
                         download_name=package.filename)
    response.headers["Cache-Control"] = "no-store"  # a person's data: never kept by a browser or a proxy
    return response
