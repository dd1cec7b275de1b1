"""« Comptes clôturés » (/admin/clotures): every account the product closed, its deadlines, who confirmed, what is late;
« Opposition appel / courrier » (/admin/opposition): a number or postal address put on the opt-out list."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.backoffice import audit, bp
from app.backoffice.forms import ContactOptOutForm
from app.backoffice.models import Read
from app.connectors.models import CallStatus
from app.product.closures import closure_cases
from app.product.optout import record_contact_opt_out
from app.rights.services import today


@bp.route("/clotures")
def closures():
    """The closure cases, late ones marked (the read goes in the journal: the page shows addresses)."""
    audit.record_read(current_user.email, Read.QUEUE, "clotures")
    return render_template("backoffice/closures.html", cases=closure_cases(), today=today(), CallStatus=CallStatus)


@bp.route("/opposition", methods=["GET", "POST"])
def contact_opt_out():
    """A call or post opt-out received by letter, phone or in person."""
    form = ContactOptOutForm()
    if form.validate_on_submit():
        record_contact_opt_out(form.channel.data, form.identifier.data, f"staff:{current_user.email}"[:40])
        flash(_("C’est noté\u00a0: ce contact est sur la liste d’opposition."), "success")
        return redirect(url_for("backoffice.contact_opt_out"), 303)
    return render_template("backoffice/contact_opt_out.html", form=form), 400 if form.errors else 200
