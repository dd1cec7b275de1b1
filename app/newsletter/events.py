"""The subscriber's history: one append-only row per step, and how each step reads on the preference page."""

from enum import StrEnum

from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.newsletter.models import Subscriber, SubscriberEvent
from app.suppression.models import Channel


class Step(StrEnum):
    """One step of a subscriber's history."""

    SUBSCRIBE_REQUESTED = "subscribe_requested"
    CONFIRMED = "confirmed"
    UNSUBSCRIBED = "unsubscribed"
    SMS_STOP = "sms_stop"
    SMS_START = "sms_start"
    OPT_OUT_LIFTED = "opt_out_lifted"
    LINK_REQUESTED = "link_requested"
    RESTRICTED = "restricted"
    RESTRICTION_LIFTED = "restriction_lifted"
    REPERMISSION_ASKED = "repermission_asked"
    STAYED = "stayed"


class Source(StrEnum):
    """Where a step came from."""

    WEB_FORM = "web_form"
    DOUBLE_OPT_IN = "double_opt_in"
    ONE_CLICK = "one_click"
    UNSUBSCRIBE_PAGE = "unsubscribe_page"
    PREFERENCE_CENTRE = "preference_centre"
    SMS_REPLY = "sms"
    STAFF = "staff"
    RESUBSCRIBE = "resubscribe"
    MAILTO = "mailto"
    SMS_CODE = "sms_code"
    TWILIO_OPT_OUT = "twilio_21610"  # Twilio refused a send: the number had replied STOP to our sender
    REPERMISSION = "repermission"


ACTION_LABELS = {
    Step.SUBSCRIBE_REQUESTED: _l("Demande d’inscription"),
    Step.CONFIRMED: _l("Consentement confirmé"),
    Step.UNSUBSCRIBED: _l("Désabonnement"),
    Step.SMS_STOP: _l("STOP reçu par SMS"),
    Step.SMS_START: _l("Réinscription par SMS (START)"),
    Step.OPT_OUT_LIFTED: _l("Sortie de la liste d’opposition"),
    Step.LINK_REQUESTED: _l("Lien de gestion demandé"),
    Step.RESTRICTED: _l("Traitement limité à votre demande (aucun envoi)"),
    Step.RESTRICTION_LIFTED: _l("Fin de la limitation du traitement"),
    Step.REPERMISSION_ASKED: _l("Nous vous avons demandé si vous souhaitiez rester abonné"),
    Step.STAYED: _l("Vous avez choisi de rester abonné"),
}
SOURCE_LABELS = {
    Source.WEB_FORM: _l("formulaire du site"),
    Source.DOUBLE_OPT_IN: _l("lien de confirmation reçu par e-mail"),
    Source.ONE_CLICK: _l("désabonnement en un clic depuis votre messagerie"),
    Source.UNSUBSCRIBE_PAGE: _l("page de désabonnement"),
    Source.PREFERENCE_CENTRE: _l("centre de préférences"),
    Source.SMS_REPLY: _l("réponse à un SMS"),
    Source.STAFF: _l("demande traitée par notre équipe"),
    Source.RESUBSCRIBE: _l("page de réabonnement"),
    Source.MAILTO: _l("e-mail de désabonnement envoyé depuis votre messagerie"),
    Source.SMS_CODE: _l("code reçu par SMS et saisi sur le site"),
    Source.TWILIO_OPT_OUT: _l("STOP enregistré par notre prestataire SMS"),
    Source.REPERMISSION: _l("e-mail de renouvellement de votre consentement"),
}
CHANNEL_LABELS = {Channel.EMAIL: _l("E-mail"), Channel.SMS: _l("SMS")}


def source_label(source: str) -> str:
    """How a step's origin reads; any origin we do not name (the rights back-office…) is our team's doing."""
    return str(SOURCE_LABELS.get(source, SOURCE_LABELS[Source.STAFF]))


def record_event(subscriber: Subscriber, action: str, *, source: str, channel: str | None = None,
                 list_slug: str | None = None, ip_prefix: str | None = None, **detail) -> SubscriberEvent:
    """Append one step to the subscriber's history (the caller commits)."""
    if subscriber.id is None:
        db.session.flush()
    event = SubscriberEvent(subscriber_id=subscriber.id, action=action, channel=channel, list_slug=list_slug,
                            source=source, ip_prefix=ip_prefix, detail=detail)
    db.session.add(event)
    return event
