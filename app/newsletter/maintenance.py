"""Newsletter retention (§8): requests never confirmed go after 30 days; three years after a subscriber's last
positive action we ask once whether they want to stay, and delete them 30 days later without a « oui »."""

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.consent.models import ConsentSubject
from app.database import among
from app.extensions import db
from app.mail.models import OutboxMessage
from app.newsletter.events import Step
from app.newsletter.lists import LISTS
from app.newsletter.models import ChannelStatus, ListStatus, PhoneProof, Subscriber, SubscriberEvent, Subscription
from app.newsletter.repermission import ANSWER_WINDOW, queue_questions
from app.retention.register import P8_NECESSARY, P8_NO_ANSWER, P8_PROSPECTS, P8_RECONTACT, Action, Outcome, Rule
from app.retention.runner import bulk
from app.suppression.models import Channel
from app.suppression.services import suppressed_clause

UNCONFIRMED_RETENTION = timedelta(days=30)
PROSPECT_RETENTION = timedelta(days=3 * 365)
POSITIVE_STEPS = (Step.SUBSCRIBE_REQUESTED, Step.CONFIRMED, Step.SMS_START, Step.LINK_REQUESTED, Step.STAYED)
KEPT_MAIL_KINDS = ("rights", "staff")  # mail about a rights request follows the request's own retention
CHUNK = 5000
TABLES = ("newsletter_subscribers", "newsletter_subscriptions", "newsletter_events", "newsletter_phone_proofs")
UNLOADED = {"synchronize_session": False}  # bulk deletes: none of these rows is in the session
PROOF_RETENTION = timedelta(days=1)  # a code lives 10 minutes; the proof itself is kept on the subscriber


def step_times(steps: tuple[str, ...], label: str) -> sa.Subquery:
    """Per subscriber, the time of their latest step among `steps`."""
    return (sa.select(SubscriberEvent.subscriber_id, sa.func.max(SubscriberEvent.occurred_at).label(label))
            .where(SubscriberEvent.action.in_(steps)).group_by(SubscriberEvent.subscriber_id).subquery())


def with_history() -> tuple[sa.Select, sa.ColumnElement, sa.ColumnElement]:
    """Subscribers joined to their last positive action (or creation) and their last re-permission question."""
    positive, asked = step_times(POSITIVE_STEPS, "last"), step_times((Step.REPERMISSION_ASKED,), "asked")
    last = sa.func.coalesce(positive.c.last, Subscriber.created_at)
    query = (sa.select(Subscriber.id).outerjoin(positive, positive.c.subscriber_id == Subscriber.id)
             .outerjoin(asked, asked.c.subscriber_id == Subscriber.id))
    return query, last, asked.c.asked


def contactable() -> sa.ColumnElement[bool]:
    """A confirmed address that is not on the opt-out list: someone we may ask."""
    return sa.and_(Subscriber.email_status == ChannelStatus.CONFIRMED, Subscriber.email.is_not(None),
                   ~suppressed_clause(Channel.EMAIL, Subscriber.email_hash))


def never_confirmed(now: datetime) -> Outcome:
    """Delete requests never confirmed (no channel ever confirmed) 30 days after the last request."""
    query, last, _asked = with_history()
    ids = list(db.session.scalars(query.where(
        Subscriber.email_status == ChannelStatus.PENDING, Subscriber.sms_status != ChannelStatus.CONFIRMED,
        Subscriber.email_consent_at.is_(None), last < now - UNCONFIRMED_RETENTION)))
    return Outcome(len(ids), delete_subscribers(ids))


def ask_to_stay(now: datetime) -> Outcome:
    """Ask, once, the subscribers whose last positive action is 3 years old less 30 days."""
    query, last, asked = with_history()
    due = query.where(contactable(), last < now - PROSPECT_RETENTION + ANSWER_WINDOW,
                      sa.or_(asked.is_(None), asked < last))
    readers = db.session.execute(due.with_only_columns(
        Subscriber.id, Subscriber.email, Subscriber.public_id, Subscriber.language)).all()
    return Outcome(len(readers), queue_questions([tuple(row) for row in readers], now))


def prospects(now: datetime) -> Outcome:
    """Delete subscribers 3 years after their last positive action: asked 30 days ago with no « oui », or not
    contactable at all (unsubscribed, opted out); their opt-out entries stay."""
    query, last, asked = with_history()
    answered_nothing = sa.and_(asked.is_not(None), asked >= last, asked <= now - ANSWER_WINDOW)
    ids = list(db.session.scalars(query.where(
        last < now - PROSPECT_RETENTION, sa.or_(answered_nothing, ~contactable()))))
    return Outcome(len(ids), delete_subscribers(ids))


def delete_subscribers(ids: list[int]) -> int:
    """Delete subscribers with everything about them: lists, history, mail we queued them, consent links."""
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        people = sa.select(Subscriber.email).where(among(Subscriber.id, chunk))
        hashes = sa.select(Subscriber.email_hash).where(among(Subscriber.id, chunk))
        statements = [
            sa.delete(OutboxMessage).where(OutboxMessage.recipient.in_(people),
                                           OutboxMessage.kind.not_in(KEPT_MAIL_KINDS)),
            sa.delete(ConsentSubject).where(ConsentSubject.email_hash.in_(hashes)),
            *(sa.delete(table).where(among(table.subscriber_id, chunk))
              for table in (SubscriberEvent, PhoneProof, Subscription)),
            sa.delete(Subscriber).where(among(Subscriber.id, chunk)),
        ]
        for statement in statements:
            db.session.execute(statement, execution_options=UNLOADED)
    return len(ids)


def purge(now: datetime) -> int:
    """`flask newsletter purge`: the two deleting rules of the register, at once; commits."""
    deleted = never_confirmed(now).acted + prospects(now).acted
    db.session.commit()
    return deleted


def list_counts() -> dict[str, dict[str, int]]:
    """Active and pending subscriptions per list."""
    rows = db.session.execute(sa.select(Subscription.list_slug, Subscription.status, sa.func.count())
                              .group_by(Subscription.list_slug, Subscription.status))
    counts = {slug: {ListStatus.ACTIVE: 0, ListStatus.PENDING: 0} for slug in LISTS}
    for slug, status, number in rows:
        if slug in counts and status in counts[slug]:
            counts[slug][status] = number
    return counts


# What this feature adds to the retention register (registered in create_app, run in this order).
def delete_spent_codes(now: datetime) -> Outcome:
    """SMS codes a day after they lapsed, typed back or not (whether the number was proven stays on the subscriber)."""
    return bulk(sa.delete(PhoneProof).where(PhoneProof.expires_at < now - PROOF_RETENTION))


RULES = (
    Rule("codes_sms", ("newsletter_phone_proofs",), _l("Codes envoyés par SMS pour prouver un numéro (empreinte du "
                                                        "code, numéro)"), PROOF_RETENTION, _l("1 jour"),
         _l("l’expiration du code"), Action.DELETE, (P8_NECESSARY,), delete_spent_codes),
    Rule("newsletter_non_confirmees", TABLES, _l("Demandes d’inscription à la newsletter jamais confirmées"),
         UNCONFIRMED_RETENTION, _l("30 jours"), _l("la dernière demande d’inscription"), Action.DELETE,
         (P8_NECESSARY,), never_confirmed),
    Rule("newsletter_relance", TABLES, _l("Abonnés sans action positive depuis bientôt trois ans"),
         PROSPECT_RETENTION - ANSWER_WINDOW, _l("3 ans moins 30 jours"),
         _l("la dernière action positive (inscription, confirmation, «\u00a0Oui, je reste abonné\u00a0»)"), Action.ASK,
         (P8_RECONTACT,), ask_to_stay),
    Rule("newsletter_prospects", TABLES, _l("Abonnés et prospects (adresse, numéro, listes, historique)"),
         PROSPECT_RETENTION, _l("3 ans"),
         _l("la dernière action positive, sans réponse 30 jours après la demande de renouvellement"),
         Action.DELETE, (P8_PROSPECTS, P8_NO_ANSWER), prospects),
)
