"""Retention: requests never confirmed go after 30 days, subscribers with no activity after 3 years."""

from datetime import timedelta

import sqlalchemy as sa

from app.database import utcnow
from app.extensions import db
from app.newsletter.lists import LISTS
from app.newsletter.models import ChannelStatus, ListStatus, Subscriber, SubscriberEvent, Subscription

UNCONFIRMED_RETENTION = timedelta(days=30)
INACTIVE_RETENTION = timedelta(days=3 * 365)


def purge() -> int:
    """Delete expired subscribers with their lists and history (their opt-out entries are kept); commit."""
    now = utcnow()
    last_event = (sa.select(SubscriberEvent.subscriber_id, sa.func.max(SubscriberEvent.occurred_at).label("last"))
                  .group_by(SubscriberEvent.subscriber_id).subquery())
    never_confirmed = sa.and_(
        Subscriber.email_status == ChannelStatus.PENDING, Subscriber.sms_status != ChannelStatus.CONFIRMED,
        Subscriber.email_consent_at.is_(None), Subscriber.created_at < now - UNCONFIRMED_RETENTION)
    quiet = sa.func.coalesce(last_event.c.last, Subscriber.created_at) < now - INACTIVE_RETENTION
    ids = list(db.session.scalars(sa.select(Subscriber.id).outerjoin(
        last_event, last_event.c.subscriber_id == Subscriber.id).where(sa.or_(never_confirmed, quiet))))
    if ids:
        db.session.execute(sa.delete(SubscriberEvent).where(SubscriberEvent.subscriber_id.in_(ids)))
        db.session.execute(sa.delete(Subscription).where(Subscription.subscriber_id.in_(ids)))
        db.session.execute(sa.delete(Subscriber).where(Subscriber.id.in_(ids)),
                           execution_options={"synchronize_session": False})
    db.session.commit()
    return len(ids)


def list_counts() -> dict[str, dict[str, int]]:
    """Active and pending subscriptions per list."""
    rows = db.session.execute(sa.select(Subscription.list_slug, Subscription.status, sa.func.count())
                              .group_by(Subscription.list_slug, Subscription.status))
    counts = {slug: {ListStatus.ACTIVE: 0, ListStatus.PENDING: 0} for slug in LISTS}
    for slug, status, number in rows:
        if slug in counts and status in counts[slug]:
            counts[slug][status] = number
    return counts
