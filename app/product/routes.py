"""The product's doors: its signed events, the opt-out check, and the preference link from the customer's account."""

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.connectors.services import AnswerRefused
from app.extensions import csrf, limiter
from app.newsletter.links import manage_token
from app.newsletter.lists import ALL_LISTS
from app.newsletter.services import find_by_email
from app.product import bp, events, links, optout


def refused(error: AnswerRefused):
    """The JSON answer to a request we do not take, with the reason."""
    return jsonify(ok=False, error=str(error)), error.status


@bp.post("/webhooks/product")
@csrf.exempt
def product_event():
    """An event the product signed (Standard Webhooks): taken once, a replay changes nothing."""
    try:
        taken = events.take_event(request.get_data(), dict(request.headers))
    except AnswerRefused as error:
        return refused(error)
    return jsonify(ok=True, replay=not taken)


@bp.post("/api/opt-out/check")
@csrf.exempt
def opt_out_check():
    """Whether each contact may be called or posted to (signed like the webhooks), never the list."""
    request.max_content_length = optout.CHECK_MAX_BYTES  # a full batch of postal addresses is over 64 KB
    try:
        return jsonify(ok=True, results=optout.check(request.get_data(), dict(request.headers)))
    except AnswerRefused as error:
        return refused(error)


@bp.get("/preferences/compte")
@limiter.limit("30/minute")
def account_preferences():
    """The preference centre of the address the product signed for, without a mail round trip."""
    try:
        email = links.signed_email(request.args)
    except links.AccountLinkRefused as error:
        return render_template("product/link_refused.html", expired=error.expired), 403
    subscriber = find_by_email(email)
    if subscriber is None:
        return render_template("product/no_subscription.html", email=email)
    flash(_("Préférences de votre compte K-Inventory (%(email)s).", email=email), "info")
    return redirect(url_for("newsletter.preferences", token=manage_token(subscriber.public_id, ALL_LISTS)), 303)
