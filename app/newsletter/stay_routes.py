"""The re-permission page: « Oui, je reste abonné » (GET shows the button, POST records the answer)."""

from flask import render_template

from app.extensions import limit_posts
from app.newsletter import bp, repermission
from app.newsletter.forms import ButtonForm
from app.newsletter.links import manage_token
from app.newsletter.lists import ALL_LISTS
from app.newsletter.routes import here, ip_prefix
from app.newsletter.services import find_by_public_id
from app.tokens import NEWSLETTER_STAY, InvalidLink


@bp.route("/newsletter/rester/<token>", methods=["GET", "POST"])
@limit_posts("30/minute")
def stay(token: str):
    """GET changes nothing (link scanners); POST keeps the subscriber for three more years."""
    subscriber = find_by_public_id(repermission.read_stay_token(token))
    if subscriber is None:
        raise InvalidLink(NEWSLETTER_STAY, "no such subscriber")
    leave = manage_token(subscriber.public_id, ALL_LISTS)
    form = ButtonForm()
    if form.validate_on_submit():
        repermission.stay(subscriber, ip_prefix())
        return render_template("newsletter/stayed.html", token=leave)
    return render_template("newsletter/stay.html", form=form, action=here("newsletter.stay", token), token=leave)
