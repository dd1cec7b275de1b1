"""The outbox holds the person's address and the mail we sent them."""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.datamap import DataKind, Person
from app.extensions import db
from app.mail.models import OutboxMessage


def export_mail(person: Person) -> list[dict]:
    """The messages addressed to the person (subject, dates, status; not other people's data)."""
    if not person.email:
        return []
    rows = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.recipient == person.email))
    return [
        {"created_at": m.created_at.isoformat(), "subject": m.subject, "status": m.status,
         "sent_at": m.sent_at.isoformat() if m.sent_at else None, "body_text": m.body_text}
        for m in rows
    ]


def erase_mail(person: Person) -> int:
    """Delete the messages addressed to the person."""
    if not person.email:
        return 0
    result = db.session.execute(sa.delete(OutboxMessage).where(OutboxMessage.recipient == person.email))
    return result.rowcount or 0


# What this feature adds to the data map (registered in create_app).
KINDS = (
    DataKind(
        name="emails_envoyes", models=(OutboxMessage,),
        purpose=_l("Envoi des e-mails que vous avez demandés ou qui vous sont dus (confirmations, réponses, avis)."),
        legal_basis=_l("Exécution d’un contrat, obligation légale ou consentement, selon le message."),
        retention=_l("Jusqu’à l’effacement de vos données ou la fin de la relation commerciale."),
        recipients=_l("K-Technology & Services et son prestataire d’envoi d’e-mails."),
        export=export_mail, erase=erase_mail,
    ),
)
