"""How the newsletter follows the opt-out list and honours it before every send.

Whoever adds an entry (our pages, STOP by SMS, a staff command, the rights back-office calling
`app.suppression.services.suppress`), the subscriber's channel is turned off and the step recorded in their
history, in the same transaction; marketing mail still waiting in the outbox for that address is cancelled.
"""

from collections.abc import Iterable

import sqlalchemy as sa

from app.database import utcnow
from app.extensions import db
from app.mail.models import OutboxMessage, OutboxStatus
from app.newsletter import events as ev
from app.newsletter.events import Source, Step
from app.newsletter.mail import MARKETING
from app.newsletter.models import CHANNEL_ON, ChannelStatus, ListStatus, Subscriber, Subscription
from app.suppression.models import Channel, Reason
from app.suppression.services import SuppressionChange


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


def subscribers_for(change: SuppressionChange) -> list[Subscriber]:
    """The subscribers with the address or number of the change."""
    if change.channel == Channel.EMAIL:
        return list(db.session.scalars(sa.select(Subscriber).where(Subscriber.email == change.identifier)))
    return list(db.session.scalars(sa.select(Subscriber).where(
        sa.or_(Subscriber.phone == change.identifier, Subscriber.pending_phone == change.identifier))))


def email_opted_out(subscriber: Subscriber, source: str) -> None:
    """Every followed list off and the e-mail channel unsubscribed (lists awaiting confirmation stay so)."""
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
