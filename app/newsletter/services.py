"""Newsletter rules: ask, confirm, unsubscribe, preferences, STOP by SMS; every step goes to the event log.

The opt-out list (app.suppression) is checked before any subscription is confirmed, written on every
opt-out, and lifted for one channel only by a new confirmed opt-in on that channel.
"""

from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa

from app.consent.services import link_consent_to_person
from app.database import utcnow
from app.extensions import db
from app.newsletter import events as ev
from app.newsletter.events import Source, Step
from app.newsletter.links import read_manage_token
from app.newsletter.lists import ALL_LISTS, LISTS
from app.newsletter.mail import queue_confirmation, queue_manage_link
from app.newsletter.models import CHANNEL_ON, ChannelStatus, ListStatus, Subscriber, Subscription
from app.newsletter.optout import leave_list
from app.newsletter.sms import start_proof
from app.newsletter.sms_budget import Visitor
from app.personal import keyed_hash, normalise_email, normalise_phone
from app.policy.services import current_version_number
from app.suppression.models import Channel, Reason
from app.suppression.services import lift, suppress, suppressed_clause, suppression_reasons

MAX_REQUESTS_PER_HOUR = 5
SAME_REQUEST_WITHIN = timedelta(seconds=10)


class SubscriptionRestricted(Exception):
    """Processing of this person's data is restricted (a rights request): no new subscription for now."""


@dataclass
class Confirmation:
    """What a confirmation did."""

    lists: list[str] = field(default_factory=list)
    sms_confirmed: bool = False
    sms_needs_start: bool = False

    @property
    def changed(self) -> bool:
        """Whether anything was confirmed now."""
        return bool(self.lists or self.sms_confirmed)


def find_by_email(email: str) -> Subscriber | None:
    """The subscriber with that address."""
    return db.session.scalar(sa.select(Subscriber).where(Subscriber.email == normalise_email(email)))


def find_by_public_id(public_id: str) -> Subscriber | None:
    """The subscriber a link names."""
    return db.session.scalar(sa.select(Subscriber).where(Subscriber.public_id == public_id))


def find_by_phone(phone: str) -> list[Subscriber]:
    """Every subscriber with that number (current or awaiting confirmation)."""
    return list(db.session.scalars(sa.select(Subscriber).where(
        sa.or_(Subscriber.phone == phone, Subscriber.pending_phone == phone))))


def request_subscription(email: str, lists: list[str], *, phone: str | None = None, language: str = "fr",
                         client_address: str | None = None, consent_id: str | None = None) -> str | None:
    """Record a request from the form, mail the confirmation link and text a code to the number; commits.

    A known address is never changed from this anonymous form (its owner gets a link instead); the answer, and the
    code sent to a number, are the same either way. Returns the code's proof id (None without a number).
    """
    email, phone = normalise_email(email), normalise_phone(phone) if phone else None
    visitor = Visitor.of(client_address)
    ip_prefix = visitor.ip_prefix
    if Reason.RESTRICTION in suppression_reasons(Channel.EMAIL, email=email):
        return None
    known = find_by_email(email)
    subscriber = known or new_subscriber(email, language)
    pending = [] if known else mark_lists_pending(subscriber, [slug for slug in lists if slug in LISTS])
    too_many = recent_requests(subscriber) >= MAX_REQUESTS_PER_HOUR
    ev.record_event(subscriber, Step.SUBSCRIBE_REQUESTED, source=Source.WEB_FORM, channel=Channel.EMAIL,
                    ip_prefix=ip_prefix, lists=pending if not known else [], sms=phone is not None,
                    consent_id=consent_id, policy_version=current_version_number())
    link_consent(consent_id, email)
    if not too_many:
        if subscriber.slugs_with(ListStatus.PENDING):
            queue_confirmation(subscriber)
        else:
            queue_manage_link(subscriber, already_subscribed=True)
    proof = start_proof(subscriber, phone, applies=known is None, visitor=visitor) if phone else None
    db.session.commit()
    return proof.public_id if proof else None


def new_subscriber(email: str, language: str) -> Subscriber:
    """A subscriber waiting for confirmation."""
    subscriber = Subscriber(email=email, email_hash=keyed_hash(email), language=language,
                            email_status=ChannelStatus.PENDING, sms_status=ChannelStatus.NONE, subscriptions=[])
    db.session.add(subscriber)
    return subscriber


def mark_lists_pending(subscriber: Subscriber, slugs: list[str], renew: bool = True) -> list[str]:
    """Ask for the lists the subscriber does not follow yet; return those (newly, or again if `renew`) pending."""
    pending = []
    for slug in slugs:
        subscription = subscriber.subscription(slug)
        if subscription is None:
            subscriber.subscriptions.append(Subscription(list_slug=slug, status=ListStatus.PENDING,
                                                         requested_at=utcnow()))
        elif subscription.status == ListStatus.ACTIVE or (subscription.status == ListStatus.PENDING and not renew):
            continue
        else:
            subscription.status, subscription.requested_at = ListStatus.PENDING, utcnow()
        pending.append(slug)
    return pending


def recent_requests(subscriber: Subscriber) -> int:
    """How many requests the address had in the last hour (to stop anyone flooding it with mail)."""
    if subscriber.id is None:
        return 0
    since = utcnow() - timedelta(hours=1)
    return db.session.scalar(sa.select(sa.func.count()).select_from(ev.SubscriberEvent).where(
        ev.SubscriberEvent.subscriber_id == subscriber.id, ev.SubscriberEvent.occurred_at >= since,
        ev.SubscriberEvent.action.in_([Step.SUBSCRIBE_REQUESTED, Step.LINK_REQUESTED]))) or 0


def link_consent(consent_id: str | None, email: str) -> None:
    """Tie the visitor's cookie-consent id to the address (so an access request finds that proof too)."""
    if consent_id:
        link_consent_to_person(consent_id, email)


def hold(subscriber: Subscriber) -> None:
    """Take the subscriber's row until commit, then read it afresh: the same link posted twice at once is applied
    once, the second request waiting for the first and then finding nothing left to do.

    An UPDATE that changes nothing locks the row on PostgreSQL and takes the database's write lock on SQLite; it must
    come before any change of this transaction (they are re-read from the database after it).
    """
    db.session.execute(sa.update(Subscriber).where(Subscriber.id == subscriber.id).values(
        updated_at=Subscriber.updated_at), execution_options={"synchronize_session": False})
    db.session.expire_all()


def confirm(subscriber: Subscriber, ip_prefix: str | None = None) -> Confirmation:
    """The confirmation link was followed: confirm what is pending, after checking the opt-out list."""
    hold(subscriber)
    if Reason.RESTRICTION in suppression_reasons(Channel.EMAIL, email=subscriber.email):
        raise SubscriptionRestricted(subscriber.public_id)
    result = Confirmation(lists=subscriber.slugs_with(ListStatus.PENDING))
    now = utcnow()
    if result.lists:
        if lift(Channel.EMAIL, email=subscriber.email, reason=Reason.OPT_OUT, source=Source.DOUBLE_OPT_IN):
            ev.record_event(subscriber, Step.OPT_OUT_LIFTED, source=Source.DOUBLE_OPT_IN, channel=Channel.EMAIL,
                            ip_prefix=ip_prefix)
        subscriber.email_status, subscriber.email_consent_at = ChannelStatus.CONFIRMED, now
        subscriber.email_consent_source = Source.DOUBLE_OPT_IN
        for slug in result.lists:
            subscription = subscriber.subscription(slug)
            subscription.status, subscription.consented_at = ListStatus.ACTIVE, now
            subscription.consent_source, subscription.unsubscribed_at = Source.DOUBLE_OPT_IN, None
            ev.record_event(subscriber, Step.CONFIRMED, source=Source.DOUBLE_OPT_IN, channel=Channel.EMAIL,
                            list_slug=slug, ip_prefix=ip_prefix, policy_version=current_version_number())
    db.session.commit()
    return result


def unsubscribe(subscriber: Subscriber | None, slug: str, source: str, ip_prefix: str | None = None) -> None:
    """Leave one list (or every list): at once, idempotent; with no list left, the address goes on the opt-out list.
    One transaction: commits once."""
    leave_lists(subscriber, slug, source, ip_prefix)
    db.session.commit()


def leave_lists(subscriber: Subscriber | None, slug: str, source: str, ip_prefix: str | None = None) -> None:
    """What `unsubscribe` does, in the caller's transaction: one list (or every list) not left yet is left; with
    no list left, the e-mail channel goes off."""
    if subscriber is None:
        return
    hold(subscriber)
    slugs = list(LISTS) if slug == ALL_LISTS else [slug]
    for subscription in subscriber.subscriptions:
        if subscription.list_slug in slugs and subscription.status != ListStatus.UNSUBSCRIBED:
            leave_list(subscriber, subscription, source, ip_prefix)
    if not subscriber.slugs_with(ListStatus.ACTIVE):
        leave_email(subscriber, source)


def leave_email(subscriber: Subscriber, source: str) -> None:
    """No list left: the e-mail channel is off and the address goes on the opt-out list."""
    if subscriber.email_status != ChannelStatus.UNSUBSCRIBED:
        subscriber.email_status = ChannelStatus.UNSUBSCRIBED
    if subscriber.email:
        suppress(Channel.EMAIL, email=subscriber.email, source=source)


def stop_sms(subscriber: Subscriber, source: str, ip_prefix: str | None = None) -> None:
    """SMS off for this subscriber and their number on the SMS opt-out list (the caller commits)."""
    if subscriber.sms_status in CHANNEL_ON:
        subscriber.sms_status = ChannelStatus.UNSUBSCRIBED
        subscriber.sms_opted_out_at, subscriber.sms_opt_out_source = utcnow(), source
        action = Step.SMS_STOP if source == Source.SMS_REPLY else Step.UNSUBSCRIBED
        ev.record_event(subscriber, action, source=source, channel=Channel.SMS, ip_prefix=ip_prefix)
    subscriber.pending_phone = None
    if subscriber.phone:
        suppress(Channel.SMS, phone=subscriber.phone, source=source)


def unsubscribe_everything(subscriber: Subscriber | None, source: str, ip_prefix: str | None = None) -> None:
    """« Me désabonner de tout »: every list, e-mail and SMS."""
    if subscriber is None:
        return
    hold(subscriber)
    stop_sms(subscriber, source, ip_prefix)
    leave_lists(subscriber, ALL_LISTS, source, ip_prefix)
    db.session.commit()


def update_preferences(subscriber: Subscriber, *, email_on: bool, lists: list[str], sms_on: bool,
                       phone: str | None = None, client_address: str | None = None) -> tuple[bool, str | None]:
    """Save the preference centre: off is immediate; on needs a new confirmation by e-mail, or a code by SMS.

    Returns whether a confirmation e-mail went out, and the id of the code sent to the number (if any); commits.
    """
    hold(subscriber)
    visitor = Visitor.of(client_address)
    ip_prefix = visitor.ip_prefix
    wanted = {slug for slug in lists if slug in LISTS} if email_on else set()
    source, restricted = Source.PREFERENCE_CENTRE, is_restricted(subscriber)
    for subscription in subscriber.subscriptions:
        if subscription.list_slug not in wanted and subscription.status != ListStatus.UNSUBSCRIBED:
            leave_list(subscriber, subscription, source, ip_prefix)
    pending = [] if restricted else mark_lists_pending(subscriber, sorted(wanted), renew=False)
    if not subscriber.slugs_with(ListStatus.ACTIVE):
        leave_email(subscriber, source)
    proof = None
    number = normalise_phone(phone) if phone else subscriber.phone
    if not sms_on:
        stop_sms(subscriber, source, ip_prefix)
    elif number and not restricted and (subscriber.sms_status != ChannelStatus.CONFIRMED or number != subscriber.phone):
        proof = start_proof(subscriber, number, applies=True, visitor=visitor)
    if pending:
        ev.record_event(subscriber, Step.SUBSCRIBE_REQUESTED, source=source, channel=Channel.EMAIL, ip_prefix=ip_prefix,
                        lists=pending, sms=False)
        queue_confirmation(subscriber)
    db.session.commit()
    return bool(pending), proof.public_id if proof else None


def resubscribe(subscriber: Subscriber, slug: str, ip_prefix: str | None = None) -> None:
    """Ask again for a list left earlier (or every list): a new double opt-in, by e-mail."""
    hold(subscriber)
    if Reason.RESTRICTION in suppression_reasons(Channel.EMAIL, email=subscriber.email):
        return
    slugs = [slug for slug in (list(LISTS) if slug == ALL_LISTS else [slug]) if not just_asked(subscriber, slug)]
    pending = mark_lists_pending(subscriber, slugs)
    if pending and recent_requests(subscriber) < MAX_REQUESTS_PER_HOUR:
        ev.record_event(subscriber, Step.SUBSCRIBE_REQUESTED, source=Source.RESUBSCRIBE, channel=Channel.EMAIL,
                        ip_prefix=ip_prefix, lists=pending, sms=False)
        queue_confirmation(subscriber)
    db.session.commit()


def just_asked(subscriber: Subscriber, slug: str) -> bool:
    """Whether the list was asked for within seconds: the same button posted twice is one request."""
    subscription = subscriber.subscription(slug)
    return (subscription is not None and subscription.status == ListStatus.PENDING
            and subscription.requested_at >= utcnow() - SAME_REQUEST_WITHIN)


def request_manage_link(email: str, ip_prefix: str | None = None) -> None:
    """Someone lost our e-mails: mail a fresh link to the address if it is known; nothing otherwise."""
    subscriber = find_by_email(email)
    if subscriber is None or recent_requests(subscriber) >= MAX_REQUESTS_PER_HOUR or is_restricted(subscriber):
        return
    ev.record_event(subscriber, Step.LINK_REQUESTED, source=Source.WEB_FORM, channel=Channel.EMAIL, ip_prefix=ip_prefix)
    queue_manage_link(subscriber)
    db.session.commit()


def history(subscriber: Subscriber) -> list[ev.SubscriberEvent]:
    """The subscriber's steps, newest first."""
    return list(db.session.scalars(sa.select(ev.SubscriberEvent).where(
        ev.SubscriberEvent.subscriber_id == subscriber.id).order_by(
        ev.SubscriberEvent.occurred_at.desc(), ev.SubscriberEvent.id.desc())))


def confirmed_addresses(_version: object = None) -> list[str]:
    """Addresses of confirmed subscribers not on the opt-out list (the receiver of material policy notices)."""
    return list(db.session.scalars(sa.select(Subscriber.email).where(
        Subscriber.email_status == ChannelStatus.CONFIRMED, Subscriber.email.is_not(None),
        ~suppressed_clause(Channel.EMAIL, Subscriber.email_hash))))


def is_restricted(subscriber: Subscriber) -> bool:
    """Whether processing of the subscriber's address or number is restricted (a rights request): no contact."""
    if subscriber.email and Reason.RESTRICTION in suppression_reasons(Channel.EMAIL, email=subscriber.email):
        return True
    return bool(subscriber.phone) and Reason.RESTRICTION in suppression_reasons(Channel.SMS, phone=subscriber.phone)


def record_staff_opt_out(*, email: str | None = None, phone: str | None = None) -> None:
    """An opt-out received another way (mail to the List-Unsubscribe address, letter, call); the caller commits."""
    if email:
        subscriber = find_by_email(email)
        if subscriber is not None:
            leave_lists(subscriber, ALL_LISTS, Source.STAFF)
        suppress(Channel.EMAIL, email=email, source=Source.STAFF)
    if phone:
        for subscriber in find_by_phone(phone):
            stop_sms(subscriber, Source.STAFF)
        suppress(Channel.SMS, phone=phone, source=Source.STAFF)


def unsubscribe_by_token(token: str) -> str:
    """A mailto: unsubscribe: the same as the one-click link of that token (commits); the list it named."""
    public_id, slug = read_manage_token(token)
    unsubscribe(find_by_public_id(public_id), slug, Source.MAILTO)
    return "every list" if slug == ALL_LISTS else slug
