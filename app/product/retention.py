"""The three-year client period (§8): it runs from the customer's last activity in the product; when it lapses the
customer is asked once whether to keep hearing from us, and without a « oui » within 30 days their marketing data
goes and every connected system is told to stop marketing to them."""

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.connectors.services import Subject, fan_out
from app.extensions import db
from app.newsletter.events import Step
from app.newsletter.maintenance import PROSPECT_RETENTION, contactable, delete_subscribers
from app.newsletter.models import Subscriber, SubscriberEvent
from app.newsletter.repermission import ANSWER_WINDOW, queue_questions
from app.product.models import ClientActivity
from app.retention.register import P8_NO_ANSWER, P8_PROSPECTS, P8_RECONTACT, Action, Outcome, Rule
from app.rights import models as rights
from app.rights.deadlines import due_date
from app.rights.services import log, reference_for

LAPSED = "client_period_lapsed"  # the step in the objection request the connected systems are asked under


def recently_contacted(emails: list[str], since: datetime) -> set[str]:
    """The addresses among these whose newsletter consent was given at `since` or later: a contact, from which
    the three years run again (§8: « à compter de leur collecte ou du dernier contact »)."""
    consented = sa.func.coalesce(Subscriber.email_consent_at, Subscriber.created_at)
    return set(db.session.scalars(sa.select(Subscriber.email).where(Subscriber.email.in_(emails),
                                                                    consented >= since))) if emails else set()


def ask_lapsed_clients(now: datetime) -> Outcome:
    """Customers inactive for three years and not in contact since: mark the period lapsed and ask the subscribed
    ones once."""
    inactive = list(db.session.scalars(sa.select(ClientActivity).where(
        ClientActivity.last_activity_at < now - PROSPECT_RETENTION, ClientActivity.lapsed_at.is_(None))))
    in_contact = recently_contacted([row.email for row in inactive], now - PROSPECT_RETENTION)
    lapsed = [row for row in inactive if row.email not in in_contact]
    emails = [row.email for row in lapsed]
    readers = db.session.execute(sa.select(Subscriber.id, Subscriber.email, Subscriber.public_id, Subscriber.language)
                                 .where(Subscriber.email.in_(emails), contactable())).all() if emails else []
    queue_questions([tuple(row) for row in readers], now)
    for row in lapsed:
        row.lapsed_at = now
    return Outcome(len(inactive), len(lapsed))


def stayed_since(email: str, moment: datetime) -> bool:
    """Whether the subscriber of that address said « Oui, je reste abonné » since the question."""
    return bool(db.session.scalar(sa.select(SubscriberEvent.id).join(Subscriber).where(
        Subscriber.email == email, SubscriberEvent.action == Step.STAYED, SubscriberEvent.occurred_at >= moment)))


def tell_systems(email: str, now: datetime) -> None:
    """An objection request on record (answered: nothing for staff to do) that asks every system to stop marketing."""
    request = rights.RightsRequest(kind=rights.Kind.OBJECTION, status=rights.Status.ANSWERED, name="", email=email,
                                   message="", received_at=now, confirmed_at=now, closed_at=now, due_on=due_date(now))
    db.session.add(request)
    db.session.flush()
    request.reference = reference_for(request)
    log(request, LAPSED, "retention")
    fan_out(Subject(request.id, request.reference, request.kind, email, None, request.due_on))


def end_lapsed_clients(now: datetime) -> Outcome:
    """30 days after the question: without a « oui », delete the marketing data and tell the connected systems."""
    due = list(db.session.scalars(sa.select(ClientActivity).where(ClientActivity.lapsed_at <= now - ANSWER_WINDOW)))
    ended = [row for row in due if not stayed_since(row.email, row.lapsed_at)
             and not recently_contacted([row.email], row.lapsed_at)]
    ids = list(db.session.scalars(sa.select(Subscriber.id).where(Subscriber.email.in_([r.email for r in ended])))) if (
        ended) else []
    delete_subscribers(ids)
    for row in ended:
        tell_systems(row.email, now)
    for row in due:
        db.session.delete(row)
    return Outcome(len(due), len(ended))


# What the product's events add to the retention register (registered in create_app).
RULES = (
    Rule("clients_relance", ("client_activity",), _l("Clients sans activité dans le produit depuis trois ans"),
         PROSPECT_RETENTION, _l("3 ans"), _l("la dernière activité du client dans le produit K-Inventory"),
         Action.ASK, (P8_PROSPECTS, P8_RECONTACT), ask_lapsed_clients),
    Rule("clients_fin", ("client_activity", "newsletter_subscribers"),
         _l("Données de prospection des clients sans activité ni réponse"), PROSPECT_RETENTION, _l("3 ans"),
         _l("la dernière activité, sans réponse 30 jours après la demande de renouvellement"), Action.DELETE,
         (P8_NO_ANSWER,), end_lapsed_clients),
)
