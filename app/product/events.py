"""The product's signed events (Standard Webhooks, PRODUCT_WEBHOOK_SECRET): an account closed, a customer's activity.

Each event is taken once: its `webhook-id` is kept beside what it changed, in the same transaction, so a duplicate
or a replay changes nothing. The signature and freshness checks are the connectors' own (`verified_answer`).
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app

from app.connectors.models import ConnectedSystem
from app.connectors.services import AnswerRefused, Subject, fan_out, verified_answer
from app.database import committed_first, utcnow
from app.datamap import Person, erase_person
from app.extensions import db
from app.personal import normalise_email, normalise_phone
from app.product.models import AccountClosure, ClientActivity, ProductEvent
from app.rights import models as rights
from app.rights.deadlines import local_date, months_after
from app.rights.services import log, reference_for

PRODUCT = "product"  # the actor named in the erasure request's log
# « dans un délai de 1 mois et nos sauvegardes dans un délai de 3 mois supplémentaires »
ACTIVE_MONTHS, BACKUP_MONTHS = 1, 3
CLOCK_SKEW = timedelta(minutes=5)  # the product's clock may run a little ahead of ours


class EventRefused(AnswerRefused):
    """An event we do not take: `status` is the HTTP status to give back, the message says why."""


def verified_event(body: bytes, headers: dict[str, str]) -> tuple[str, str, dict]:
    """The event's (webhook id, type, data) once its signature and age are checked (EventRefused otherwise)."""
    secret = current_app.config.get("PRODUCT_WEBHOOK_SECRET")
    if not secret:
        raise EventRefused(503, "PRODUCT_WEBHOOK_SECRET is not set: product events are not taken")
    payload = verified_answer(ConnectedSystem(name=PRODUCT, secret=secret), body, headers)
    kind, data = payload.get("type"), payload.get("data")
    if kind not in HANDLERS:
        raise EventRefused(400, f"unknown event type {kind!r}; known: {', '.join(HANDLERS)}")
    if not isinstance(data, dict):
        raise EventRefused(400, "data must be a JSON object")
    webhook_id = {k.lower(): v for k, v in headers.items()}["webhook-id"]
    if len(webhook_id) > 255:
        raise EventRefused(400, "webhook-id is longer than 255 characters")
    return webhook_id, kind, data


def take_event(body: bytes, headers: dict[str, str]) -> bool:
    """Apply a signed event and commit; False when that `webhook-id` was already taken (nothing changes)."""
    webhook_id, kind, data = verified_event(body, headers)
    if db.session.scalar(sa.select(ProductEvent.id).where(ProductEvent.webhook_id == webhook_id)):
        return False
    try:
        HANDLERS[kind](data)
    except EventRefused:
        db.session.rollback()  # nothing half-written
        raise
    db.session.add(ProductEvent(webhook_id=webhook_id, type=kind))
    return committed_first()  # False: another worker took the same event at the same moment (its id is unique)


def email_in(data: dict) -> str:
    """The event's e-mail address, normalised."""
    email = data.get("email")
    try:
        return normalise_email(validate_email(email, check_deliverability=False).normalized)
    except (EmailNotValidError, TypeError) as error:
        raise EventRefused(400, "email must be an e-mail address") from error


def moment_in(data: dict, key: str) -> datetime:
    """An ISO 8601 date and time with its offset, in UTC."""
    try:
        moment = datetime.fromisoformat(str(data.get(key)).replace("Z", "+00:00"))
        if moment.tzinfo is None:
            raise EventRefused(400, f"{key} must carry its offset (Z or +01:00)")
        moment = moment.astimezone(UTC)
    except (ValueError, OverflowError) as error:
        raise EventRefused(400, f"{key} must be an ISO 8601 date and time with its offset") from error
    if moment > utcnow() + CLOCK_SKEW:
        raise EventRefused(400, f"{key} is in the future")
    return moment


def phone_in(data: dict) -> str | None:
    """The event's phone number in E.164, or None when there is none."""
    if data.get("phone") in (None, ""):
        return None
    phone = normalise_phone(str(data["phone"]))
    if phone is None:
        raise EventRefused(400, "phone must be a valid phone number")
    return phone


def account_closed(data: dict) -> None:
    """Open the closure's erasure request, ask every system that erases, and erase what only this site kept."""
    email, phone, closed_at = email_in(data), phone_in(data), moment_in(data, "closed_at")
    now = utcnow()
    active_due = months_after(local_date(closed_at), ACTIVE_MONTHS)
    request = rights.RightsRequest(
        kind=rights.Kind.ERASURE, status=rights.Status.IN_PROGRESS, name="", email=email, phone=phone,
        message="", received_at=now, confirmed_at=now, due_on=active_due)
    db.session.add(request)
    db.session.flush()
    request.reference = reference_for(request)
    log(request, "account_closed", PRODUCT, public=True, closed_at=closed_at.isoformat())
    fan_out(Subject(request.id, request.reference, request.kind, email, phone, active_due))
    erased = erase_person(Person(email=email, phone=phone))
    log(request, "erased", PRODUCT, public=True, counts=erased)
    db.session.add(AccountClosure(request_id=request.id, closed_at=closed_at, active_due_on=active_due,
                                  backups_due_on=months_after(active_due, BACKUP_MONTHS), erased_at=now,
                                  erased=erased))


def customer_activity(data: dict) -> None:
    """Move the start of the three-year client period forward (an older date than the one held changes nothing)."""
    email, moment = email_in(data), moment_in(data, "last_activity_at")
    held = db.session.scalar(sa.select(ClientActivity).where(ClientActivity.email == email))
    if held is None:
        db.session.add(ClientActivity(email=email, last_activity_at=moment))
    elif moment > held.last_activity_at:
        held.last_activity_at, held.lapsed_at = moment, None


HANDLERS: dict[str, Callable[[dict], None]] = {"account.closed": account_closed,
                                               "customer.activity": customer_activity}
