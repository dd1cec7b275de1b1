"""Rights requests from receipt to closure: submit, confirm the address, follow, expire, log each step."""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from app.database import utcnow
from app.datamap import Person
from app.extensions import db
from app.mail.services import queue_mail
from app.mail.unverified import queue_form_reply
from app.newsletter.services import find_by_email as find_subscriber
from app.personal import normalise_email, normalise_phone
from app.rights import models as m
from app.rights.deadlines import UNCONFIRMED_LIFETIME, due_date, local_date
from app.rights.labels import KIND_LABELS, N_, REQUESTER, STATUS_LABELS, SYSTEM
from app.tokens import RIGHTS_CONFIRM, RIGHTS_STATUS, sign
from app.urls import site_url


@dataclass(frozen=True)
class Submission:
    """What the contact form collected, already validated."""

    kind: str
    name: str
    email: str
    message: str
    phone: str | None = None
    postal_address: str | None = None  # kept for an objection: the post channel of the opt-out list
    correction: str | None = None
    designated_name: str | None = None
    designated_contact: str | None = None


def reference_for(request: m.RightsRequest) -> str:
    """The reference quoted in every message: DR-<year of receipt>-<six digits>."""
    return f"DR-{request.received_at.year}-{request.id:06d}"


def submit(submission: Submission, *, language: str = "fr", ip_prefix: str | None = None,
           without_captcha: bool = False) -> m.RightsRequest:
    """Store the request with its deadline and first event, queue the acknowledgement; one transaction."""
    received_at = utcnow()
    request = m.RightsRequest(
        kind=submission.kind, name=submission.name.strip(), email=normalise_email(submission.email),
        phone=normalise_phone(submission.phone) if submission.phone else None,
        postal_address=submission.postal_address, message=submission.message.strip(),
        correction=submission.correction, designated_name=submission.designated_name,
        designated_contact=submission.designated_contact, language=language, ip_prefix=ip_prefix,
        without_captcha=without_captcha, received_at=received_at, due_on=due_date(received_at),
        status=m.Status.UNCONFIRMED)
    db.session.add(request)
    db.session.flush()
    request.reference = reference_for(request)
    log(request, "received", REQUESTER, public=True, kind=request.kind)
    queue_acknowledgement(request)
    db.session.commit()
    return request


def log(request: m.RightsRequest, action: str, actor: str, *, public: bool = False, **detail) -> m.RequestEvent:
    """Append one step to the request's log (the caller commits)."""
    event = m.RequestEvent(request=request, action=action, actor=actor, public=public, detail=detail)
    db.session.add(event)
    return event


def requester_links(request: m.RightsRequest) -> dict[str, str]:
    """The signed links a requester receives: confirm the address, follow the request."""
    lang = request.language
    return {
        "confirm_url": site_url("rights.confirm", token=sign(RIGHTS_CONFIRM, request.public_id), lang=lang),
        "status_url": site_url("rights.status", token=sign(RIGHTS_STATUS, request.public_id), lang=lang),
    }


def requester_mail(request: m.RightsRequest, subject: str, template: str, **context) -> tuple[str, str]:
    """The subject and text of a mail to the requester, in their language."""
    with force_locale(request.language):
        context = {"request": request, "kind_label": KIND_LABELS[request.kind], **requester_links(request),
                   **context}
        return _(subject, reference=request.reference), render_template(f"rights/mail/{template}.txt", **context)


def mail_requester(request: m.RightsRequest, subject: str, template: str, **context) -> None:
    """Queue a transactional e-mail to the requester in their language (no unsubscribe header)."""
    queue_mail(request.email, *requester_mail(request, subject, template, **context), kind="rights")


def queue_acknowledgement(request: m.RightsRequest) -> None:
    """The acknowledgement: reference, due date, the confirmation and status links, nothing the visitor typed.

    The mail counts against the address's daily cap (lower while it is unverified); past it, the request is kept
    and its log says the acknowledgement was not sent.
    """
    subject, text = requester_mail(request, N_("Votre demande %(reference)s a bien été reçue"), "acknowledgement",
                                   confirm_days=UNCONFIRMED_LIFETIME.days)
    if queue_form_reply(request.email, subject, text, verified=address_verified(request.email), kind="rights") is None:
        log(request, "acknowledgement_withheld", SYSTEM)


def address_verified(email: str) -> bool:
    """Whether someone proved the address is theirs: a request from it was confirmed, or a newsletter subscription."""
    confirmed = db.session.scalar(sa.select(sa.func.count()).select_from(m.RightsRequest).where(
        m.RightsRequest.email == email, m.RightsRequest.confirmed_at.is_not(None)))
    subscriber = find_subscriber(email)
    return bool(confirmed) or (subscriber is not None and subscriber.email_consent_at is not None)


def find_by_public_id(public_id: str) -> m.RightsRequest | None:
    """The request a signed link names."""
    return db.session.scalar(sa.select(m.RightsRequest).where(m.RightsRequest.public_id == public_id))


def find_by_reference(reference: str) -> m.RightsRequest | None:
    """The request with this reference (DR-2026-000123)."""
    return db.session.scalar(sa.select(m.RightsRequest).where(m.RightsRequest.reference == reference.strip()))


def confirm(request: m.RightsRequest) -> bool:
    """The requester followed the link: the address is theirs. Returns False when it can no longer be confirmed."""
    if request.status == m.Status.UNCONFIRMED:
        request.status, request.confirmed_at = m.Status.CONFIRMED, utcnow()
        log(request, "confirmed", REQUESTER, public=True)
        db.session.commit()
    return request.status != m.Status.EXPIRED


def person_of(request: m.RightsRequest) -> Person:
    """Whom the request is about: the confirmed address and the phone number given."""
    return Person(email=request.email, phone=request.phone)


def status_label(request: m.RightsRequest) -> str:
    """The status as the requester reads it."""
    return str(STATUS_LABELS[request.status])


def public_events(request: m.RightsRequest) -> list[m.RequestEvent]:
    """The steps shown to the requester (internal notes and staff names stay inside)."""
    return [event for event in request.events if event.public]


def open_requests_due_by(day: date) -> list[m.RightsRequest]:
    """Open requests whose deadline falls on or before a day, soonest first (for reminders)."""
    deadline = sa.func.coalesce(m.RightsRequest.extended_to, m.RightsRequest.due_on)
    return list(db.session.scalars(sa.select(m.RightsRequest).where(
        m.RightsRequest.status.in_(m.OPEN_STATUSES), deadline <= day).order_by(deadline, m.RightsRequest.id)))


def today() -> date:
    """Today in Paris."""
    return local_date(utcnow())
