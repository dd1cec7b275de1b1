"""Outbox retention: bodies cleared 30 days after delivery (failed ones after 90), metadata kept 5 years as proof
of what was sent when; soft bounces deleted after 30 days."""

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.mail.bounces import SOFT_WINDOW
from app.mail.models import OutboxMessage, OutboxStatus, SoftBounce
from app.retention.register import P8_NECESSARY, P8_PROOF, Action, Outcome, Rule
from app.retention.runner import bulk

SENT_BODY_RETENTION = timedelta(days=30)
FAILED_BODY_RETENTION = timedelta(days=90)
METADATA_RETENTION = timedelta(days=5 * 365)
CLEARED = ""  # the body of a message once cleared


def clear_bodies(*where: sa.ColumnElement[bool]) -> Outcome:
    """Empty the body and headers (personal links, tokens) of matching messages; recipient, subject, dates stay."""
    return bulk(sa.update(OutboxMessage).where(OutboxMessage.body_text != CLEARED, *where).values(
        body_text=CLEARED, body_html=None, headers={}))


def clear_sent(now: datetime) -> Outcome:
    """Bodies of delivered messages, 30 days after delivery."""
    return clear_bodies(OutboxMessage.status == OutboxStatus.SENT, OutboxMessage.sent_at < now - SENT_BODY_RETENTION)


def clear_failed(now: datetime) -> Outcome:
    """Bodies of messages given up on or cancelled, 90 days after they were queued."""
    return clear_bodies(OutboxMessage.status.in_((OutboxStatus.FAILED, OutboxStatus.CANCELLED)),
                        OutboxMessage.created_at < now - FAILED_BODY_RETENTION)


def delete_metadata(now: datetime) -> Outcome:
    """What is left of a message (recipient, subject, dates, status) goes after 5 years."""
    return bulk(sa.delete(OutboxMessage).where(OutboxMessage.status != OutboxStatus.PENDING,
                                                OutboxMessage.created_at < now - METADATA_RETENTION))


def delete_soft_bounces(now: datetime) -> Outcome:
    """Soft bounces older than their 30-day window."""
    return bulk(sa.delete(SoftBounce).where(SoftBounce.bounced_at < now - SOFT_WINDOW))


# What this feature adds to the retention register (registered in create_app, run in this order).
RULES = (
    Rule("emails_contenu", ("outbox",), _l("Contenu des e-mails envoyés (texte, HTML, liens personnels)"),
         SENT_BODY_RETENTION, _l("30 jours"), _l("la remise du message"), Action.CLEAR_BODY, (P8_NECESSARY,),
         clear_sent),
    Rule("emails_echoues", ("outbox",), _l("Contenu des e-mails non remis (échec ou annulation)"),
         FAILED_BODY_RETENTION, _l("90 jours"), _l("la mise en file du message"), Action.CLEAR_BODY, (P8_NECESSARY,),
         clear_failed),
    Rule("emails_envoyes", ("outbox",), _l("Trace des e-mails envoyés (destinataire, objet, dates, statut)"),
         METADATA_RETENTION, _l("5 ans"), _l("la mise en file du message"), Action.DELETE, (P8_PROOF,),
         delete_metadata),
    Rule("rebonds_temporaires", ("mail_soft_bounces",), _l("Refus temporaires (empreinte HMAC de l’adresse)"),
         SOFT_WINDOW, _l("30 jours"), _l("le refus"), Action.DELETE, (P8_NECESSARY,), delete_soft_bounces),
)
