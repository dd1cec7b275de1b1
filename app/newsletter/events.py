"""The subscriber's history: one append-only row per step, and how each step reads on the preference page."""

from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.newsletter.models import Subscriber, SubscriberEvent

SUBSCRIBE_REQUESTED, CONFIRMED, UNSUBSCRIBED = "subscribe_requested", "confirmed", "unsubscribed"
SMS_STOP, SMS_START, OPT_OUT_LIFTED, LINK_REQUESTED = "sms_stop", "sms_start", "opt_out_lifted", "link_requested"
RESTRICTED, RESTRICTION_LIFTED = "restricted", "restriction_lifted"
# Where a step came from.
WEB_FORM, DOUBLE_OPT_IN, ONE_CLICK, UNSUBSCRIBE_PAGE = "web_form", "double_opt_in", "one_click", "unsubscribe_page"
PREFERENCE_CENTRE, SMS_REPLY, STAFF, RESUBSCRIBE = "preference_centre", "sms", "staff", "resubscribe"
MAILTO = "mailto"

ACTION_LABELS = {
    SUBSCRIBE_REQUESTED: _l("Demande d’inscription"),
    CONFIRMED: _l("Consentement confirmé"),
    UNSUBSCRIBED: _l("Désabonnement"),
    SMS_STOP: _l("STOP reçu par SMS"),
    SMS_START: _l("Réinscription par SMS (START)"),
    OPT_OUT_LIFTED: _l("Sortie de la liste d’opposition"),
    LINK_REQUESTED: _l("Lien de gestion demandé"),
    RESTRICTED: _l("Traitement limité à votre demande (aucun envoi)"),
    RESTRICTION_LIFTED: _l("Fin de la limitation du traitement"),
}
SOURCE_LABELS = {
    WEB_FORM: _l("formulaire du site"),
    DOUBLE_OPT_IN: _l("lien de confirmation reçu par e-mail"),
    ONE_CLICK: _l("désabonnement en un clic depuis votre messagerie"),
    UNSUBSCRIBE_PAGE: _l("page de désabonnement"),
    PREFERENCE_CENTRE: _l("centre de préférences"),
    SMS_REPLY: _l("réponse à un SMS"),
    STAFF: _l("demande traitée par notre équipe"),
    RESUBSCRIBE: _l("page de réabonnement"),
    MAILTO: _l("e-mail de désabonnement envoyé depuis votre messagerie"),
}
CHANNEL_LABELS = {"email": _l("E-mail"), "sms": _l("SMS")}


def source_label(source: str) -> str:
    """How a step's origin reads; any origin we do not name (the rights back-office…) is our team's doing."""
    return str(SOURCE_LABELS.get(source, SOURCE_LABELS[STAFF]))


def record_event(subscriber: Subscriber, action: str, *, source: str, channel: str | None = None,
                 list_slug: str | None = None, ip_prefix: str | None = None, **detail) -> SubscriberEvent:
    """Append one step to the subscriber's history (the caller commits)."""
    if subscriber.id is None:
        db.session.flush()
    event = SubscriberEvent(subscriber_id=subscriber.id, action=action, channel=channel, list_slug=list_slug,
                            source=source, ip_prefix=ip_prefix, detail=detail)
    db.session.add(event)
    return event
