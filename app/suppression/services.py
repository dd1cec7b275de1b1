"""The opt-out list's rules: suppress, check and lift, by channel, keyed by an HMAC of the identifier.

Reasons: « opt_out » (the person said no; cleared only by a new confirmed opt-in on that channel) and
« restriction » (restriction of processing under a rights request; cleared only when staff lift it).
Functions add to the caller's session; the caller commits, in the same transaction as the change.
Features that hold people's addresses hear each change through the `suppression_changed` signal (connected in
`create_app`: the newsletter turns the subscriber's channel off and records it in their history), so calling
`suppress` is enough everywhere.
"""

from dataclasses import dataclass

import sqlalchemy as sa
from blinker import signal

from app.extensions import db
from app.personal import keyed_hash, normalise_email, normalise_phone, normalise_postal_address
from app.suppression.models import Channel, Reason, Suppression


class SuppressionError(ValueError):
    """An unknown channel or reason, or an identifier missing or invalid for the channel."""


@dataclass(frozen=True)
class SuppressionChange:
    """What a listener is told: an entry added (`added`, `created` when it was not there) or lifted."""

    channel: str
    identifier: str  # the normalised address or E.164 number, never stored by the list itself
    reason: str
    source: str
    added: bool
    created: bool = False


# Sent with each change (the change is the sender), inside the caller's transaction.
suppression_changed = signal("suppression-changed")


def normalised_identifier(channel: str, *, email: str | None = None, phone: str | None = None,
                          address: str | None = None) -> str:
    """The e-mail address, E.164 number (SMS, call) or postal address (post) in the form the list hashes."""
    if channel == Channel.EMAIL:
        address = normalise_email(email or "")
        if "@" not in address:
            raise SuppressionError("the e-mail channel needs an e-mail address")
        return address
    if channel in (Channel.SMS, Channel.CALL):
        number = normalise_phone(phone or "") if phone else None
        if not number:
            raise SuppressionError(f"the {channel} channel needs a valid phone number")
        return number
    if channel == Channel.POST:
        postal = normalise_postal_address(address or "")
        if not postal:
            raise SuppressionError("the post channel needs a postal address with its postcode")
        return postal
    raise SuppressionError(f"unknown channel {channel!r}; choose from {', '.join(Channel)}")


def identifier_hash(channel: str, *, email: str | None = None, phone: str | None = None,
                    address: str | None = None) -> str:
    """The keyed hash that stands for the identifier of the channel."""
    return keyed_hash(normalised_identifier(channel, email=email, phone=phone, address=address))


def check_reason(reason: str) -> str:
    """Refuse a reason the list does not know."""
    if reason not in tuple(Reason):
        raise SuppressionError(f"unknown reason {reason!r}; choose from {', '.join(Reason)}")
    return reason


def find(channel: str, hashed: str, reason: str) -> Suppression | None:
    """The entry for one identifier, channel and reason (pending additions of this session included)."""
    for pending in db.session.new:
        if isinstance(pending, Suppression) and (pending.channel, pending.identifier_hash, pending.reason) == (
                channel, hashed, reason):
            return pending
    return db.session.scalar(sa.select(Suppression).where(
        Suppression.channel == channel, Suppression.identifier_hash == hashed, Suppression.reason == reason))


def suppress(channel: str, *, email: str | None = None, phone: str | None = None, address: str | None = None,
             source: str, reason: str = Reason.OPT_OUT) -> Suppression:
    """Put the identifier on the list for the channel (idempotent: an existing entry is kept as it was)."""
    identifier = normalised_identifier(channel, email=email, phone=phone, address=address)
    hashed = keyed_hash(identifier)
    check_reason(reason)
    entry = find(channel, hashed, reason)
    created = entry is None
    if created:
        entry = Suppression(channel=channel, identifier_hash=hashed, reason=reason, source=source[:40])
        db.session.add(entry)
    suppression_changed.send(SuppressionChange(channel, identifier, reason, source[:40], added=True, created=created))
    return entry


def suppress_hashed(channel: str, hashed: str, *, source: str, reason: str = Reason.OPT_OUT) -> Suppression:
    """Put a keyed hash on the list when no clear identifier is at hand (a restore replaying its journal)."""
    entry = find(channel, hashed, check_reason(reason))
    if entry is None:
        entry = Suppression(channel=channel, identifier_hash=hashed, reason=reason, source=source[:40])
        db.session.add(entry)
    return entry


def suppression_reasons(channel: str, *, email: str | None = None, phone: str | None = None,
                        address: str | None = None) -> set[str]:
    """Why the identifier is on the list for the channel (empty when it is not)."""
    hashed = identifier_hash(channel, email=email, phone=phone, address=address)
    db.session.flush()
    return set(db.session.scalars(sa.select(Suppression.reason).where(
        Suppression.channel == channel, Suppression.identifier_hash == hashed)))


def is_suppressed(channel: str, *, email: str | None = None, phone: str | None = None,
                  address: str | None = None) -> bool:
    """Whether the identifier must receive no marketing on the channel, for any reason."""
    return bool(suppression_reasons(channel, email=email, phone=phone, address=address))


def lift(channel: str, *, email: str | None = None, phone: str | None = None, address: str | None = None,
         reason: str, source: str = "staff") -> bool:
    """Remove the entry of that reason only (a new confirmed opt-in lifts « opt_out », staff lift « restriction »)."""
    identifier = normalised_identifier(channel, email=email, phone=phone, address=address)
    entry = find(channel, keyed_hash(identifier), check_reason(reason))
    if entry is None:
        return False
    if entry in db.session.new:
        db.session.expunge(entry)
    else:
        db.session.delete(entry)
    suppression_changed.send(SuppressionChange(channel, identifier, reason, source[:40], added=False))
    return True


def suppressed_clause(channel: str, hash_column) -> sa.ColumnElement[bool]:
    """SQL: the row's identifier hash is on the list for the channel (for set-based sends)."""
    return sa.exists().where(Suppression.channel == channel, Suppression.identifier_hash == hash_column)
