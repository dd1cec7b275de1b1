"""How the newsletter follows the opt-out list and honours it before every send.

Whoever adds an entry (our pages, STOP by SMS, a staff command, the rights back-office calling
`app.suppression.services.suppress`), the subscriber's channel is turned off and the step recorded in their
history, in the same transaction; marketing mail still waiting in the outbox for that address is cancelled.
"""

from collections.abc import Iterable

import sqlalchemy as sa

from app.backup import journal
from app.backup.journal import Entry
from app.database import utcnow
from app.extensions import db
from app.mail.models import OutboxMessage, OutboxStatus
from app.newsletter import events as ev
from app.newsletter.events import Source, Step
from app.newsletter.mail import MARKETING
from app.newsletter.models import CHANNEL_ON, ChannelStatus, ListStatus, Subscriber, Subscription
from app.suppression.models import Channel, Reason
from app.suppression.services import SuppressionChange, suppress, suppress_hashed

LEAVE = "leave"  # journal entries: one list left (`leave email <hash> <list> <source>`)

MAILBOX_REPORTS = ("bounce", "complaint")  # opt-out sources of `flask mail bounces`: about the e-mail channel only


def cancel_queued_marketing(email: str | None, slugs: Iterable[str] | None = None) -> int:
    """Cancel the marketing mail not yet delivered to the address (for those lists, or all); the caller commits."""
    if not email:
        return 0
    queued = sa.update(OutboxMessage).where(
        OutboxMessage.recipient == email, OutboxMessage.kind == MARKETING,
        OutboxMessage.status == OutboxStatus.PENDING)
    if slugs is not None:
        queued = queued.where(OutboxMessage.list_slug.in_(list(slugs)))
    result = db.session.execute(queued.values(
        status=OutboxStatus.CANCELLED, last_error="cancelled: the recipient unsubscribed before delivery"),
        execution_options={"synchronize_session": False})
    return result.rowcount or 0


def leave_list(subscriber: Subscriber, subscription: Subscription, source: str, ip_prefix: str | None = None) -> None:
    """One list off at once: recorded, and its mail still in the outbox cancelled."""
    subscription.status, subscription.unsubscribed_at = ListStatus.UNSUBSCRIBED, utcnow()
    ev.record_event(subscriber, Step.UNSUBSCRIBED, source=source, channel=Channel.EMAIL,
                    list_slug=subscription.list_slug, ip_prefix=ip_prefix)
    cancel_queued_marketing(subscriber.email, [subscription.list_slug])
    if subscriber.email_hash:
        journal.note(LEAVE, Channel.EMAIL, subscriber.email_hash, f"{subscription.list_slug} {source}")


def subscribers_for(change: SuppressionChange) -> list[Subscriber]:
    """The subscribers with the address or number of the change."""
    if change.channel == Channel.EMAIL:
        return list(db.session.scalars(sa.select(Subscriber).where(Subscriber.email == change.identifier)))
    return list(db.session.scalars(sa.select(Subscriber).where(
        sa.or_(Subscriber.phone == change.identifier, Subscriber.pending_phone == change.identifier))))


def email_opted_out(subscriber: Subscriber, source: str) -> None:
    """Every followed list off and the e-mail channel unsubscribed (lists awaiting confirmation stay so); a bounce or
    complaint, which speaks for the mailbox only, turns the e-mail channel off and leaves the lists to the SMS."""
    if source in MAILBOX_REPORTS:
        if subscriber.email_status in CHANNEL_ON:
            subscriber.email_status = ChannelStatus.UNSUBSCRIBED
            ev.record_event(subscriber, Step.UNSUBSCRIBED, source=source, channel=Channel.EMAIL)
        return
    for subscription in subscriber.subscriptions:
        if subscription.status == ListStatus.ACTIVE:
            leave_list(subscriber, subscription, source)
    if subscriber.email_status == ChannelStatus.CONFIRMED:
        subscriber.email_status = ChannelStatus.UNSUBSCRIBED


def sms_opted_out(subscriber: Subscriber, number: str, source: str) -> None:
    """SMS off when the number is the subscriber's; a pending new number is forgotten."""
    if subscriber.pending_phone == number:
        subscriber.pending_phone = None
    if subscriber.phone == number and subscriber.sms_status in CHANNEL_ON:
        subscriber.sms_status = ChannelStatus.UNSUBSCRIBED
        subscriber.sms_opted_out_at, subscriber.sms_opt_out_source = utcnow(), source
        action = Step.SMS_STOP if source == Source.SMS_REPLY else Step.UNSUBSCRIBED
        ev.record_event(subscriber, action, source=source, channel=Channel.SMS)


def follow_suppression(change: SuppressionChange) -> None:
    """An entry added or lifted anywhere reaches the subscribers it names (listener of the opt-out list)."""
    if change.channel not in (Channel.EMAIL, Channel.SMS):  # calls and post: the newsletter sends neither
        return
    if change.added and change.channel == Channel.EMAIL:
        cancel_queued_marketing(change.identifier)
    if change.reason == Reason.RESTRICTION and (change.created or not change.added):
        action = Step.RESTRICTED if change.added else Step.RESTRICTION_LIFTED
        for subscriber in subscribers_for(change):
            ev.record_event(subscriber, action, source=change.source, channel=change.channel)
    elif change.reason == Reason.OPT_OUT and change.added:
        for subscriber in subscribers_for(change):
            if change.channel == Channel.EMAIL:
                email_opted_out(subscriber, change.source)
            else:
                sms_opted_out(subscriber, change.identifier, change.source)


def replay_lists_left(entries: list[Entry]) -> int:
    """After a restore: every list left since the backup is left again; how many lists."""
    left = 0
    for entry in entries:
        slug, _, source = entry.detail.partition(" ")
        for subscriber in db.session.scalars(sa.select(Subscriber).where(Subscriber.email_hash == entry.hashed)):
            subscription = subscriber.subscription(slug)
            if subscription is not None and subscription.status != ListStatus.UNSUBSCRIBED:
                leave_list(subscriber, subscription, source)
                left += 1
    return left


def replay_suppressions(entries: list[Entry]) -> int:
    """After a restore: every opt-out-list entry made since the backup is back, and the subscribers it names follow
    it as they did the first time; how many entries."""
    for entry in entries:
        reason, _, source = entry.detail.partition(" ")
        column = Subscriber.email_hash if entry.channel == Channel.EMAIL else Subscriber.phone_hash
        known = db.session.scalar(sa.select(Subscriber).where(column == entry.hashed).limit(1))
        if known is None:
            suppress_hashed(entry.channel, entry.hashed, source=source, reason=reason)
        elif entry.channel == Channel.EMAIL:
            suppress(entry.channel, email=known.email, source=source, reason=reason)
        else:
            suppress(entry.channel, phone=known.phone, source=source, reason=reason)
    return len(entries)
