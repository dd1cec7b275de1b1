"""Connected systems: declare them, send each concerned one a signed request when staff start fulfilling a rights
request (a durable queue, retried with back-off), and take their signed answers (Standard Webhooks)."""

import binascii
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from app.claims import commit_outcome, released, send_each
from app.connectors.models import AnswerStatus, CallStatus, ConnectedSystem, ConnectorCall, RequestType, SeenAnswer
from app.database import committed_first, utcnow
from app.extensions import db

# Which connected-system request a rights request type becomes (questions and post-mortem directives: none).
REQUEST_TYPES = {
    "access": RequestType.ACCESS, "portability": RequestType.PORTABILITY, "erasure": RequestType.ERASURE,
    "rectification": RequestType.RECTIFICATION, "restriction": RequestType.RESTRICTION,
    "objection": RequestType.OBJECTION, "withdrawal": RequestType.OBJECTION, "unsubscribe": RequestType.OBJECTION,
}
EXPORT_MAX_BYTES = 2 * 1024 * 1024
ANSWER_MAX_BYTES = EXPORT_MAX_BYTES + 64 * 1024  # the documented 2 MB export, and the answer around it
MAX_ATTEMPTS = 10
BACKOFF_BASE_SECONDS = 60
BACKOFF_MAX_SECONDS = 12 * 3600
LATE_AFTER = timedelta(days=7)
CALLS = ConnectorCall.__table__
TIMEOUT_SECONDS = 10


class ConnectorError(ValueError):
    """A system that cannot be declared as asked (the message says why)."""


class AnswerRefused(Exception):
    """An answer we do not take: `status` is the HTTP status to give back, the message says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def check_secret(secret: str) -> str:
    """A Standard Webhooks secret: `whsec_` then base64 of at least 24 random bytes."""
    if not secret.startswith("whsec_"):
        raise ConnectorError("the secret must look like whsec_<base64> (Standard Webhooks)")
    try:
        key = binascii.a2b_base64(secret[len("whsec_"):].encode())
    except binascii.Error as error:
        raise ConnectorError("the secret after whsec_ is not base64") from error
    if len(key) < 24:
        raise ConnectorError("the secret needs at least 24 random bytes")
    return secret


def check_types(types: list[str]) -> list[str]:
    """Request types from the known list, each once."""
    unknown = sorted(set(types) - set(RequestType))
    if unknown or not types:
        raise ConnectorError(f"types must be among {', '.join(RequestType)} (unknown: {', '.join(unknown)})")
    return sorted(set(types))


def check_url(url: str) -> str:
    """An http(s) endpoint."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConnectorError("the URL must be an http(s) address")
    return url


def add_system(name: str, url: str, secret: str, types: list[str]) -> ConnectedSystem:
    """Declare a system; commits."""
    name = name.strip()
    if not name or len(name) > 60 or not name.replace("-", "").replace("_", "").isalnum():
        raise ConnectorError("the name is 1 to 60 letters, digits, - or _")
    if db.session.scalar(sa.select(ConnectedSystem).where(ConnectedSystem.name == name)):
        raise ConnectorError(f"{name} is already declared")
    system = ConnectedSystem(name=name, url=check_url(url), secret=check_secret(secret), types=check_types(types))
    db.session.add(system)
    db.session.commit()
    return system


def systems() -> list[ConnectedSystem]:
    """Every declared system, by name."""
    return list(db.session.scalars(sa.select(ConnectedSystem).order_by(ConnectedSystem.name)))


def system_named(name: str) -> ConnectedSystem | None:
    """The system of that name."""
    return db.session.scalar(sa.select(ConnectedSystem).where(ConnectedSystem.name == name))


def remove_system(name: str) -> None:
    """Forget a system and its requests; commits."""
    system = system_named(name)
    if system is None:
        raise ConnectorError(f"no system named {name}")
    db.session.execute(sa.delete(ConnectorCall).where(ConnectorCall.system_id == system.id))
    db.session.delete(system)
    db.session.commit()


@dataclass(frozen=True)
class Subject:
    """What a connected system is told about a rights request: nothing but what it needs to act."""

    request_id: int
    reference: str
    kind: str
    email: str
    phone: str | None
    due_on: date


def fan_out(subject: Subject) -> list[ConnectorCall]:
    """Queue one signed request per system that handles this type (once per system); the caller commits."""
    request_type = REQUEST_TYPES.get(subject.kind)
    if request_type is None:
        return []
    already = set(db.session.scalars(sa.select(ConnectorCall.system_id).where(
        ConnectorCall.request_id == subject.request_id)))
    payload = {"reference": subject.reference, "type": str(request_type), "email": subject.email,
               "phone": subject.phone, "due_on": subject.due_on.isoformat()}
    calls = [ConnectorCall(message_id=f"msg_{uuid.uuid4().hex}", system=system, request_id=subject.request_id,
                           reference=subject.reference, request_type=request_type, payload=payload)
             for system in systems() if system.handles(request_type) and system.id not in already]
    db.session.add_all(calls)
    return calls


def calls_for(request_id: int) -> list[ConnectorCall]:
    """The systems asked about a request, by system name."""
    return sorted(db.session.scalars(sa.select(ConnectorCall).where(ConnectorCall.request_id == request_id)),
                  key=lambda call: call.system.name)


def unanswered(request_id: int) -> list[ConnectorCall]:
    """The systems that have not answered yet (a request cannot be closed while one has not, bar a dpo override)."""
    return [call for call in calls_for(request_id) if call.status != CallStatus.ANSWERED]


def late_calls(now: datetime | None = None) -> list[ConnectorCall]:
    """Requests to systems still unanswered more than 7 days after they were queued."""
    cutoff = (now or utcnow()) - LATE_AFTER
    return list(db.session.scalars(sa.select(ConnectorCall).where(
        ConnectorCall.status != CallStatus.ANSWERED, ConnectorCall.created_at < cutoff).order_by(
        ConnectorCall.created_at)))


def exports_for(request_id: int) -> dict[str, dict]:
    """Each system's export for a request, by system name (for the access package)."""
    return {call.system.name: call.export for call in calls_for(request_id) if call.export is not None}


def forget_exports(request_id: int) -> None:
    """Drop the exports once the package holds them (the caller commits)."""
    db.session.execute(sa.update(ConnectorCall).where(ConnectorCall.request_id == request_id).values(export=None))


@dataclass
class DeliveryReport:
    """What one pass of the worker did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0


def deliver_due(limit: int | None = None) -> DeliveryReport:
    """Send every due request, each outcome committed alone; a system that is down is retried later, nothing is
    lost."""
    report = DeliveryReport()
    send_each(CALLS, partial(deliver_leased, report=report), limit)
    return report


def deliver_leased(call_id: int, report: DeliveryReport) -> None:
    """Send one leased request and commit its outcome."""
    call = db.session.get(ConnectorCall, call_id)
    if call is None or call.status != CallStatus.PENDING:
        db.session.rollback()
        return
    values = deliver_one(call, report)
    db.session.rollback()  # the row was only read: its outcome is written by id, and written again if need be
    commit_outcome(partial(write_outcome, call_id, values))


def write_outcome(call_id: int, values: dict) -> None:
    """A request's new values by id, ending its lease (the current transaction)."""
    db.session.execute(sa.update(CALLS).where(CALLS.c.id == call_id).values(**values, **released()))


def signed_headers(call: ConnectorCall, body: str) -> dict[str, str]:
    """The Standard Webhooks headers: id, timestamp, and the HMAC-SHA256 signature of `id.timestamp.body`."""
    now = utcnow()
    return {"content-type": "application/json", "webhook-id": call.message_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(call.system.secret).sign(call.message_id, now, body)}


def deliver_one(call: ConnectorCall, report: DeliveryReport) -> dict:
    """POST one request and return its row's new values: a 2xx is delivered, anything else is retried with
    back-off, then given up on."""
    import requests  # about 5 MB with urllib3 and charset_normalizer: loaded by the connectors' worker only

    attempts = call.attempts + 1
    body = json.dumps(call.payload, ensure_ascii=False, separators=(",", ":"))
    try:
        response = requests.post(call.system.url, data=body.encode(), headers=signed_headers(call, body),
                                 timeout=TIMEOUT_SECONDS, allow_redirects=False)
        error = None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
    except requests.RequestException as failure:
        error = type(failure).__name__
    current_app.logger.info("connector %s, call #%s: %s", call.system.name, call.id, error or "delivered")
    if error is None:
        report.sent += 1
        return {"attempts": attempts, "status": CallStatus.SENT, "sent_at": utcnow(), "last_error": None}
    if attempts >= MAX_ATTEMPTS:
        report.failed += 1
        return {"attempts": attempts, "status": CallStatus.FAILED, "last_error": error}
    report.retried += 1
    return {"attempts": attempts, "last_error": error, "next_attempt_at": utcnow() + backoff(attempts)}


def backoff(attempts: int) -> timedelta:
    """1 min, 2 min, 4 min … up to 12 h."""
    return timedelta(seconds=min(BACKOFF_BASE_SECONDS * 2 ** (attempts - 1), BACKOFF_MAX_SECONDS))


def verified_answer(system: ConnectedSystem, body: bytes, headers: dict[str, str]) -> dict:
    """The answer's JSON if the system signed it within the last 5 minutes (AnswerRefused 401 otherwise)."""
    try:
        payload = Webhook(system.secret).verify(body, headers)
    except (WebhookVerificationError, ValueError, UnicodeDecodeError) as error:
        raise AnswerRefused(401, "bad or stale signature") from error
    if not isinstance(payload, dict):
        raise AnswerRefused(400, "the answer must be a JSON object")
    return payload


def take_answer(system_name: str, body: bytes, headers: dict[str, str]) -> bool:
    """Record a system's answer (commits); False when it is a replay of an answer already taken, or of one taken
    at the same moment by another worker (the unique `webhook-id` decides which)."""
    system = system_named(system_name)
    if system is None:
        raise AnswerRefused(404, "unknown system")
    payload = verified_answer(system, body, headers)
    seen = seen_key({k.lower(): v for k, v in headers.items()}["webhook-id"])
    if db.session.scalar(sa.select(SeenAnswer.id).where(SeenAnswer.webhook_id == seen)):
        return False
    call = call_answered(system, payload)
    record_answer(call, payload, len(body))
    db.session.add(SeenAnswer(webhook_id=seen))
    return committed_first()


def seen_key(webhook_id: str) -> str:
    """What is kept of a `webhook-id`: its SHA-256, so ids of any length are compared in full."""
    return hashlib.sha256(webhook_id.encode()).hexdigest()


def call_answered(system: ConnectedSystem, payload: dict) -> ConnectorCall:
    """The request the answer is about (by reference), sent to that system."""
    reference = payload.get("reference")
    call = db.session.scalar(sa.select(ConnectorCall).where(
        ConnectorCall.system_id == system.id, ConnectorCall.reference == str(reference or "")).order_by(
        ConnectorCall.id.desc()).limit(1))
    if call is None:
        raise AnswerRefused(404, "no request with that reference was sent to this system")
    return call


def record_answer(call: ConnectorCall, payload: dict, size: int) -> None:
    """Keep the status, the export (access, portability), the count erased, or the reason for a failure."""
    status = payload.get("status")
    if status not in tuple(AnswerStatus):
        raise AnswerRefused(400, f"status must be one of {', '.join(AnswerStatus)}")
    export, erased = payload.get("export"), payload.get("erased")
    if export is not None and (not isinstance(export, dict) or size > EXPORT_MAX_BYTES):
        raise AnswerRefused(413 if isinstance(export, dict) else 400, "export must be a JSON object under 2 MB")
    if erased is not None and (isinstance(erased, bool) or not isinstance(erased, int) or erased < 0):
        raise AnswerRefused(400, "erased must be a count")
    call.status, call.answer, call.answered_at = CallStatus.ANSWERED, status, utcnow()
    call.export, call.erased = export, erased
    call.reason = str(payload.get("reason"))[:2000] if payload.get("reason") is not None else None
