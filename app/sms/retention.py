"""Retention of SMS: messages and replies kept 90 days (delivery proof, STOP de-duplication), then deleted."""

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.retention.register import P8_NECESSARY, Action, Outcome, Rule
from app.retention.runner import bulk
from app.sms.models import InboundSms, SmsMessage, SmsStatus

SMS_RETENTION = timedelta(days=90)


def delete_old_messages(now: datetime) -> Outcome:
    """SMS sent, given up on or cancelled more than 90 days ago (waiting ones stay)."""
    return bulk(sa.delete(SmsMessage).where(SmsMessage.status != SmsStatus.PENDING,
                                            SmsMessage.created_at < now - SMS_RETENTION))


def delete_old_replies(now: datetime) -> Outcome:
    """Replies received (kept to act on each Twilio message once) after 90 days."""
    return bulk(sa.delete(InboundSms).where(InboundSms.received_at < now - SMS_RETENTION))


# What the SMS package adds to the retention register (registered in create_app).
RULES = (
    Rule("sms_envoyes", ("sms_outbox",), _l("SMS envoyés (numéro, texte, statut de remise)"), SMS_RETENTION,
         _l("90 jours"), _l("la mise en file du SMS"), Action.DELETE, (P8_NECESSARY,), delete_old_messages),
    Rule("sms_recus", ("sms_inbound",), _l("Réponses reçues par SMS (empreinte du numéro, identifiant Twilio)"),
         SMS_RETENTION, _l("90 jours"), _l("la réception"), Action.DELETE, (P8_NECESSARY,), delete_old_replies),
)
