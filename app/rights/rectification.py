"""Rectification: correct a person's name, address or number everywhere the site holds it."""

import sqlalchemy as sa

from app.consent.models import ConsentSubject
from app.extensions import db
from app.mail.services import check_recipient
from app.newsletter.models import Subscriber
from app.personal import keyed_hash, normalise_email, normalise_phone
from app.rights import models as m
from app.suppression.models import Channel
from app.suppression.services import suppress, suppression_reasons

FIELDS = ("name", "email", "phone")


def cleaned(field: str, value: str) -> str | None:
    """A corrected value in its canonical form (None when left blank)."""
    value = (value or "").strip()
    if not value:
        return None
    if field == "email":
        check_recipient(normalise_email(value))  # InvalidMessage when no mail could reach it (CR/LF, no domain…)
        return normalise_email(value)
    if field == "phone":
        return normalise_phone(value) or value
    return value


def rectify_person(request: m.RightsRequest, changes: dict[str, str]) -> list[dict]:
    """Apply each change that differs from what the request holds; return before/after per field (caller commits)."""
    applied = []
    for field in FIELDS:
        after, before = cleaned(field, changes.get(field, "")), getattr(request, field)
        if after is None or after == before:
            continue
        places = RECTIFIERS[field](request, before, after)
        applied.append({"field": field, "before": before, "after": after, "where": places})
    return applied


def requests_of(request: m.RightsRequest) -> list[m.RightsRequest]:
    """Every request from the same address."""
    return list(db.session.scalars(sa.select(m.RightsRequest).where(m.RightsRequest.email == request.email)))


def rectify_name(request: m.RightsRequest, before: str, after: str) -> list[str]:
    """The name appears only on the person's requests."""
    for row in requests_of(request):
        row.name = after
    return ["demandes_droits"]


def rectify_email(request: m.RightsRequest, before: str, after: str) -> list[str]:
    """A new address: requests, directives, newsletter, consent links; opt-outs follow the person."""
    places = ["demandes_droits"]
    for reason in suppression_reasons(Channel.EMAIL, email=before):
        suppress(Channel.EMAIL, email=after, source="rectification", reason=reason)
    for row in requests_of(request):
        row.email = after
    db.session.execute(sa.update(m.PostMortemDirective).where(m.PostMortemDirective.email == before).values(
        email=after))
    subscriber = db.session.scalar(sa.select(Subscriber).where(Subscriber.email == before))
    if subscriber is not None:
        subscriber.email, subscriber.email_hash = after, keyed_hash(after)
        places.append("newsletter")
    moved = db.session.execute(sa.update(ConsentSubject).where(ConsentSubject.email_hash == keyed_hash(before)).values(
        email_hash=keyed_hash(after)))
    if moved.rowcount:
        places.append("consentements_cookies")
    return places


def rectify_phone(request: m.RightsRequest, before: str | None, after: str) -> list[str]:
    """A new number: requests and newsletter; an SMS opt-out follows the person."""
    places = ["demandes_droits"]
    if before:
        for reason in suppression_reasons(Channel.SMS, phone=before):
            suppress(Channel.SMS, phone=after, source="rectification", reason=reason)
    for row in requests_of(request):
        row.phone = after
    subscriber = db.session.scalar(sa.select(Subscriber).where(Subscriber.email == request.email))
    if subscriber is not None and subscriber.phone == before:
        subscriber.phone, subscriber.phone_hash = after, keyed_hash(after)
        places.append("newsletter")
    return places


RECTIFIERS = {"name": rectify_name, "email": rectify_email, "phone": rectify_phone}
