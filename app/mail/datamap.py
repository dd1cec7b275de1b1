"""The outbox holds the person's address and the mail we sent them; soft bounces hold a keyed hash of it."""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.datamap import HOSTING, SITE_SECURITY, DataKind, Person
from app.extensions import db
from app.mail.models import OutboxMessage, SoftBounce
from app.mail.services import message_content
from app.personal import keyed_hash, normalise_email


def export_mail(person: Person) -> list[dict]:
    """The messages addressed to the person (subject, dates, status; not other people's data)."""
    if not person.email:
        return []
    rows = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.recipient == person.email))
    return [
        {"created_at": m.created_at.isoformat(), "subject": m.subject, "status": m.status,
         "sent_at": m.sent_at.isoformat() if m.sent_at else None, "body_text": message_content(m).body_text}
        for m in rows
    ]


def erase_mail(person: Person) -> int:
    """Delete the messages addressed to the person."""
    if not person.email:
        return 0
    result = db.session.execute(sa.delete(OutboxMessage).where(OutboxMessage.recipient == person.email))
    return result.rowcount or 0




def soft_bounces_of(person: Person) -> sa.Select:
    """The soft bounces recorded for the person's address."""
    return sa.select(SoftBounce).where(SoftBounce.address_hash == keyed_hash(normalise_email(person.email or "")))


def export_soft_bounces(person: Person) -> list[dict]:
    """When a mail to the person's address was refused for a while (date and status code)."""
    if not person.email:
        return []
    return [{"bounced_at": b.bounced_at.isoformat(), "status": b.status} for b in db.session.scalars(
        soft_bounces_of(person))]


def erase_soft_bounces(person: Person) -> int:
    """Delete the person's soft bounces."""
    if not person.email:
        return 0
    hashed = keyed_hash(normalise_email(person.email))
    return db.session.execute(sa.delete(SoftBounce).where(SoftBounce.address_hash == hashed)).rowcount or 0


# What this feature adds to the data map (registered in create_app).
KINDS = (
    DataKind(
        name="emails_envoyes", models=(OutboxMessage,),
        purpose=_l("Envoi des e-mails que vous avez demandés ou qui vous sont dus (confirmations, réponses, avis)."),
        legal_basis=_l("Exécution d’un contrat, obligation légale ou consentement, selon le message."),
        retention=_l("Jusqu’à l’effacement de vos données ou la fin de la relation commerciale."),
        recipients=_l("K-Technology & Services et son prestataire d’envoi d’e-mails."),
        title=_l("E-mails envoyés"),
        people=_l("Abonnés à la newsletter, personnes qui exercent leurs droits ou nous écrivent."),
        data_categories=_l("Adresse e-mail, objet et contenu des messages, dates d’envoi, erreurs de remise."),
        processors=("mail", "host"), transfers=(),
        security=_l("%(site)s Messages signés (DKIM), remis au relais en TLS vérifié.", site=SITE_SECURITY),
        export=export_mail, erase=erase_mail,
    ),
    DataKind(
        name="rebonds_temporaires", models=(SoftBounce,),
        purpose=_l("Cesser d’écrire à une adresse qui refuse durablement nos e-mails (cinq refus temporaires en "
                   "30 jours valent un refus définitif)."),
        legal_basis=_l("Intérêt légitime\u00a0: ne pas insister auprès d’une boîte qui refuse nos e-mails."),
        retention=_l("30 jours, sous la forme d’une empreinte (HMAC) de votre adresse, jamais en clair."),
        recipients=_l("K-Technology & Services uniquement."),
        title=_l("Refus temporaires de nos e-mails"),
        people=_l("Destinataires de nos e-mails dont la boîte refuse les messages."),
        data_categories=_l("Empreinte (HMAC) de l’adresse e-mail, code d’état du refus, date."),
        processors=HOSTING, transfers=(),
        security=_l("%(site)s Adresse jamais conservée en clair (empreinte à clé secrète).", site=SITE_SECURITY),
        export=export_soft_bounces, erase=erase_soft_bounces, fields=("bounced_at", "status"),
    ),
)
