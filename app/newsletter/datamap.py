"""Newsletter data in the data map: subscribers, their lists and history; erasure keeps the opt-out list."""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.datamap import SITE_SECURITY, DataKind, Person
from app.extensions import db
from app.newsletter.models import PhoneProof, Subscriber, SubscriberEvent, Subscription
from app.personal import normalise_email, normalise_phone
from app.sms.datamap import erase_sms


def when(value) -> str | None:
    """A date as ISO text."""
    return value.isoformat() if value else None


def subscribers_of(person: Person) -> list[Subscriber]:
    """The subscribers with the person's address or number."""
    conditions = []
    if person.email:
        conditions.append(Subscriber.email == normalise_email(person.email))
    phone = normalise_phone(person.phone) if person.phone else None
    if phone:
        conditions += [Subscriber.phone == phone, Subscriber.pending_phone == phone]
    if not conditions:
        return []
    return list(db.session.scalars(sa.select(Subscriber).where(sa.or_(*conditions)).order_by(Subscriber.id)))


def export_newsletter(person: Person) -> list[dict]:
    """Each subscription: address, number, status and consent per channel, lists, and the full history."""
    return [subscriber_as_dict(subscriber) for subscriber in subscribers_of(person)]


def subscriber_as_dict(subscriber: Subscriber) -> dict:
    """One subscriber as plain data."""
    events = db.session.scalars(sa.select(SubscriberEvent).where(
        SubscriberEvent.subscriber_id == subscriber.id).order_by(SubscriberEvent.occurred_at, SubscriberEvent.id))
    return {
        "email": subscriber.email, "phone": subscriber.phone, "pending_phone": subscriber.pending_phone,
        "language": subscriber.language, "created_at": when(subscriber.created_at),
        "email_status": subscriber.email_status, "email_consent_at": when(subscriber.email_consent_at),
        "email_consent_source": subscriber.email_consent_source, "sms_status": subscriber.sms_status,
        "sms_consent_at": when(subscriber.sms_consent_at), "sms_consent_source": subscriber.sms_consent_source,
        "sms_consent_policy": subscriber.sms_consent_policy, "sms_proven_at": when(subscriber.sms_proven_at),
        "sms_proof_source": subscriber.sms_proof_source, "sms_opted_out_at": when(subscriber.sms_opted_out_at),
        "sms_opt_out_source": subscriber.sms_opt_out_source,
        "sms_codes": [{"phone": p.phone, "sent_at": when(p.created_at), "proven_at": when(p.proven_at),
                       "attempts": p.attempts} for p in db.session.scalars(
                           sa.select(PhoneProof).where(PhoneProof.subscriber_id == subscriber.id))],
        "lists": [{"list": s.list_slug, "status": s.status, "requested_at": when(s.requested_at),
                   "consented_at": when(s.consented_at), "consent_source": s.consent_source,
                   "unsubscribed_at": when(s.unsubscribed_at)} for s in subscriber.subscriptions],
        "history": [{"at": when(e.occurred_at), "action": e.action, "channel": e.channel, "list": e.list_slug,
                     "source": e.source, "ip_prefix": e.ip_prefix, "detail": dict(e.detail or {})} for e in events],
    }


def erase_newsletter(person: Person) -> int:
    """Delete the person's subscribers, lists and history; their opt-out entries stay (see the opt-out list)."""
    found = subscribers_of(person)
    ids = [subscriber.id for subscriber in found]
    if not ids:
        return 0
    numbers = {s.phone for s in found if s.phone} | set(db.session.scalars(
        sa.select(PhoneProof.phone).where(PhoneProof.subscriber_id.in_(ids))))
    for number in numbers:  # the texts sent to their numbers go with them
        erase_sms(Person(phone=number))
    db.session.execute(sa.delete(SubscriberEvent).where(SubscriberEvent.subscriber_id.in_(ids)))
    db.session.execute(sa.delete(PhoneProof).where(PhoneProof.subscriber_id.in_(ids)))
    db.session.execute(sa.delete(Subscription).where(Subscription.subscriber_id.in_(ids)))
    db.session.execute(sa.delete(Subscriber).where(Subscriber.id.in_(ids)), execution_options={
        "synchronize_session": False})
    db.session.expire_all()
    return len(ids)


# What this feature adds to the data map (registered in create_app).
KINDS = (
    DataKind(
        name="newsletter", models=(Subscriber, Subscription, SubscriberEvent, PhoneProof),
        purpose=_l("Vous envoyer la newsletter (e-mail) et nos SMS, selon les listes que vous avez choisies, et "
                   "garder la preuve de votre consentement."),
        legal_basis=_l("Consentement (double confirmation par e-mail)\u00a0; preuve du consentement\u00a0: obligation "
                       "légale."),
        retention=_l("Tant que vous restez inscrit, puis trois ans après le dernier contact\u00a0; une demande jamais "
                     "confirmée est supprimée après 30 jours."),
        recipients=_l("K-Technology & Services, son prestataire d’envoi d’e-mails et son prestataire SMS."),
        title=_l("Newsletter et SMS"),
        people=_l("Abonnés à la newsletter et aux SMS, y compris les inscriptions en attente de confirmation."),
        data_categories=_l("Adresse e-mail, numéro de téléphone mobile, langue, listes choisies, preuves du "
                           "consentement (date, source, préfixe tronqué de l’adresse IP), historique des inscriptions "
                           "et désinscriptions."),
        processors=("mail", "twilio", "host"), transfers=("twilio",),
        security=_l("%(site)s Double confirmation de l’adresse, désinscription en un clic signée, liste "
                    "d’opposition consultée avant chaque envoi.", site=SITE_SECURITY),
        export=export_newsletter, erase=erase_newsletter,
        fields=("email", "phone", "language", "email_status", "email_consent_at", "sms_status", "sms_consent_at",
                "lists", "history"),
    ),
)
