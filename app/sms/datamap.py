"""The SMS outbox holds the person's number and the texts we sent; inbound messages only a keyed hash of it."""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.datamap import SITE_SECURITY, DataKind, Person
from app.extensions import db
from app.personal import keyed_hash, normalise_phone
from app.sms.models import InboundSms, SmsMessage


def number_of(person: Person) -> str | None:
    """The person's number in E.164, if any."""
    return normalise_phone(person.phone) if person.phone else None


def export_sms(person: Person) -> list[dict]:
    """The SMS sent to the person's number and the keywords received from it."""
    number = number_of(person)
    if not number:
        return []
    sent = [{"created_at": m.created_at.isoformat(), "kind": m.kind, "status": m.status, "body": m.body,
             "sent_at": m.sent_at.isoformat() if m.sent_at else None}
            for m in db.session.scalars(sa.select(SmsMessage).where(SmsMessage.recipient == number))]
    received = [{"received_at": i.received_at.isoformat(), "keyword": i.keyword} for i in db.session.scalars(
        sa.select(InboundSms).where(InboundSms.phone_hash == keyed_hash(number)))]
    return sent + received


def erase_sms(person: Person) -> int:
    """Delete the SMS sent to the number and the record of its inbound messages."""
    number = number_of(person)
    if not number:
        return 0
    sent = db.session.execute(sa.delete(SmsMessage).where(SmsMessage.recipient == number)).rowcount or 0
    received = db.session.execute(sa.delete(InboundSms).where(InboundSms.phone_hash == keyed_hash(number)))
    return sent + (received.rowcount or 0)


# What this feature adds to the data map (registered in create_app).
KINDS = (
    DataKind(
        name="sms", models=(SmsMessage, InboundSms),
        purpose=_l("Vous envoyer les codes de vérification et les SMS que vous avez acceptés, et prendre en compte "
                   "vos réponses STOP, START et AIDE."),
        legal_basis=_l("Consentement (SMS commerciaux)\u00a0; votre demande (codes)\u00a0; obligation légale (STOP)."),
        retention=_l("Jusqu’à l’effacement de vos données ou la fin de la relation commerciale."),
        recipients=_l("K-Technology & Services et son prestataire SMS (Twilio)."),
        title=_l("SMS\u00a0: codes de vérification, campagnes et réponses"),
        people=_l("Personnes qui ont donné leur numéro de mobile (abonnés aux SMS, numéros à vérifier)."),
        data_categories=_l("Numéro de mobile, texte des SMS envoyés, statut de remise, mots-clés reçus (STOP, "
                           "START, AIDE) et empreinte du numéro qui les a envoyés."),
        processors=("twilio", "host"), transfers=("twilio",),
        security=_l("%(site)s Signature de chaque requête de Twilio vérifiée\u202f; liste d’opposition consultée à la "
                    "mise en file et à l’envoi\u202f; aucun SMS commercial le dimanche, les jours fériés et la nuit.",
                    site=SITE_SECURITY),
        export=export_sms, erase=erase_sms,
    ),
)
