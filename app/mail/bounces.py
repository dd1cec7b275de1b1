"""Bounces and complaints: VERP return paths, reading DSNs (RFC 3464) and feedback reports (ARF, RFC 5965).

A hard bounce or a complaint puts the address on the opt-out list (reason « opt_out », source « bounce » or
« complaint »); five soft bounces within 30 days count as a hard one. The address a report is about comes,
by preference, from our own VERP return path (`bounces+<outbox id>.<tag>@MAIL_BOUNCE_DOMAIN`: the tag is an HMAC,
so nobody can forge a bounce for someone else's message), then from the report itself.
"""

import base64
import hashlib
import hmac
import mailbox
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from email import message_from_bytes
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses, parseaddr
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from app.database import utcnow
from app.extensions import db
from app.mail.models import OutboxMessage, SoftBounce
from app.personal import keyed_hash, normalise_email
from app.suppression.models import Channel
from app.suppression.services import SuppressionError, suppress

HARD, SOFT, COMPLAINT = "hard", "soft", "complaint"
SOFT_LIMIT, SOFT_WINDOW = 5, timedelta(days=30)
TAG_LENGTH = 10
RECIPIENT_HEADERS = ("delivered-to", "x-original-to", "envelope-to", "to")
STATUS = re.compile(r"\b([245])\.\d{1,3}\.\d{1,3}\b")


def verp_tag(outbox_id: int) -> str:
    """The HMAC that proves a return path was made by us for that message."""
    digest = hmac.new(current_app.config["SECRET_KEY"].encode(), f"bounce:{outbox_id}".encode(), hashlib.sha256)
    return base64.b32encode(digest.digest()).decode().lower()[:TAG_LENGTH]


def verp_address(outbox_id: int) -> str | None:
    """The envelope sender of a message: `bounces+<id>.<tag>@MAIL_BOUNCE_DOMAIN` (None without that setting)."""
    domain = current_app.config.get("MAIL_BOUNCE_DOMAIN")
    return f"bounces+{outbox_id}.{verp_tag(outbox_id)}@{domain}" if domain else None


def verp_pattern() -> re.Pattern:
    """Our VERP addresses, wherever they appear in a report."""
    domain = re.escape(current_app.config.get("MAIL_BOUNCE_DOMAIN") or "")
    return re.compile(rf"bounces\+(\d+)\.([a-z2-7]{{{TAG_LENGTH}}})@{domain}", re.IGNORECASE)


@dataclass(frozen=True)
class Finding:
    """What a report says about one address."""

    kind: str  # hard, soft or complaint
    address: str
    status: str = ""


@dataclass
class BounceReport:
    """What reading a mailbox did (counts only: no address is printed or logged)."""

    read: int = 0
    hard: int = 0
    soft: int = 0
    complaints: int = 0
    unrecognised: int = 0
    suppressed: int = 0

    def line(self) -> str:
        """One line for the operator."""
        return (f"read {self.read}: hard {self.hard}, soft {self.soft}, complaints {self.complaints}, "
                f"no failure found {self.unrecognised}; put on the opt-out list {self.suppressed}")


def report_type(message: Message) -> str:
    """`delivery-status`, `feedback-report` or "" for anything else."""
    if message.get_content_type() != "multipart/report":
        return ""
    return (message.get_param("report-type") or "").lower()


def header_blocks(part: Message) -> list[Message]:
    """The header blocks of a message/delivery-status or message/feedback-report part."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return payload
    text = payload if isinstance(payload, str) else ""
    return [HeaderParser().parsestr(block.strip() + "\n") for block in re.split(r"\r?\n\s*\r?\n", text)
            if block.strip()]


def rfc822_address(value: str | None) -> str:
    """The address of a `rfc822; someone@example.com` field."""
    if not value:
        return ""
    kind, _, address = value.partition(";")
    address = address if address else kind
    return parseaddr(address.strip())[1]


def dsn_findings(message: Message) -> list[Finding]:
    """Failed recipients of a DSN: status 5.x.x is hard, 4.x.x soft; delays and successes are not bounces."""
    findings = []
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        for block in header_blocks(part)[1:]:  # the first block is about the message, the others per recipient
            action = (block.get("action") or "").strip().lower()
            address = rfc822_address(block.get("final-recipient")) or rfc822_address(block.get("original-recipient"))
            if not action.startswith(("failed", "error")) or not address:
                continue
            status = STATUS.search(block.get("status") or "") or STATUS.search(block.get("diagnostic-code") or "")
            code = status.group(0) if status else "5.0.0"
            findings.append(Finding(SOFT if code.startswith("4") else HARD, address, code))
    return findings


def original_headers(message: Message) -> Message | None:
    """The headers of the message a report is about (message/rfc822 or text/rfc822-headers part)."""
    for part in message.walk():
        if part.get_content_type() == "message/rfc822":
            payload = part.get_payload()
            return payload[0] if isinstance(payload, list) and payload else None
        if part.get_content_type() == "text/rfc822-headers":
            return HeaderParser().parsestr(part.get_payload(decode=True).decode("utf-8", "replace"))
    return None


def arf_findings(message: Message) -> list[Finding]:
    """A feedback report: the complaining address (Original-Rcpt-To, else the reported message's To)."""
    for part in message.walk():
        if part.get_content_type() != "message/feedback-report":
            continue
        fields = (header_blocks(part) or [Message()])[0]
        addresses = [parseaddr(value)[1] for value in fields.get_all("original-rcpt-to", [])]
        if not addresses and (original := original_headers(message)) is not None:
            addresses = [address for _, address in getaddresses(original.get_all("to", []))]
        return [Finding(COMPLAINT, address) for address in addresses if "@" in address]
    return []


def other_findings(message: Message) -> list[Finding]:
    """Older and odd formats (Exim, qmail, Exchange, …), through flufl.bounce's detectors."""
    from flufl.bounce import all_failures  # loaded by `flask mail bounces` only

    temporary, permanent = all_failures(message)
    return ([Finding(HARD, a.decode("ascii", "replace")) for a in sorted(permanent)]
            + [Finding(SOFT, a.decode("ascii", "replace")) for a in sorted(temporary - permanent)])


def findings_of(message: Message) -> list[Finding]:
    """What a report says, whatever its format."""
    kind = report_type(message)
    if kind == "feedback-report":
        return arf_findings(message)
    if kind == "delivery-status":
        return dsn_findings(message)
    return other_findings(message)


def verp_message(raw: bytes, message: Message) -> OutboxMessage | None:
    """Our message the report answers, when it carries one of our VERP addresses with a valid tag."""
    if not current_app.config.get("MAIL_BOUNCE_DOMAIN"):
        return None
    pattern = verp_pattern()
    candidates = [value for name in RECIPIENT_HEADERS for value in message.get_all(name, [])]
    for text in [*candidates, raw.decode("ascii", "replace")]:
        for outbox_id, tag in pattern.findall(text):
            if hmac.compare_digest(tag.lower(), verp_tag(int(outbox_id))):
                return db.session.get(OutboxMessage, int(outbox_id))
    return None


def reported_message(message: Message) -> OutboxMessage | None:
    """Our message a report quotes by its Message-ID."""
    original = original_headers(message)
    message_id = (original.get("message-id") or "").strip() if original is not None else ""
    if not message_id:
        return None
    return db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.message_id == message_id))


def read_report(raw: bytes) -> list[Finding]:
    """The findings of one report, each about the address we wrote to when we can tell which it was."""
    message = message_from_bytes(raw)
    findings = findings_of(message)
    ours = verp_message(raw, message) or reported_message(message)
    if ours is not None and findings:
        # Our own record beats what the report names (a forward, an alias, a redacted complaint).
        worst = min(findings, key=lambda f: (f.kind not in (COMPLAINT, HARD), f.kind))
        return [Finding(worst.kind, ours.recipient, worst.status)]
    return findings


def soft_bounce(address: str, raw: bytes, status: str) -> bool:
    """Record a soft bounce (once per report); whether the address now has five within 30 days."""
    hashed, report_hash = keyed_hash(normalise_email(address)), hashlib.sha256(raw).hexdigest()
    exists = db.session.scalar(sa.select(SoftBounce.id).where(SoftBounce.address_hash == hashed,
                                                              SoftBounce.report_hash == report_hash))
    if exists is None:
        db.session.add(SoftBounce(address_hash=hashed, report_hash=report_hash, status=status[:20]))
        db.session.flush()
    recent = db.session.scalar(sa.select(sa.func.count()).select_from(SoftBounce).where(
        SoftBounce.address_hash == hashed, SoftBounce.bounced_at >= utcnow() - SOFT_WINDOW))
    return recent >= SOFT_LIMIT


def apply(finding: Finding, raw: bytes, report: BounceReport) -> None:
    """Act on one finding: the opt-out list for a hard bounce, a complaint, or the fifth soft bounce."""
    counter = {HARD: "hard", SOFT: "soft", COMPLAINT: "complaints"}[finding.kind]
    setattr(report, counter, getattr(report, counter) + 1)
    if finding.kind == SOFT and not soft_bounce(finding.address, raw, finding.status):
        return
    try:
        suppress(Channel.EMAIL, email=finding.address, source="complaint" if finding.kind == COMPLAINT else "bounce")
    except SuppressionError:
        report.unrecognised += 1
        return
    report.suppressed += 1


def process_report(raw: bytes, report: BounceReport) -> None:
    """Read one report and act on it, in one transaction."""
    report.read += 1
    findings = read_report(raw)
    if not findings:
        report.unrecognised += 1
    for finding in findings:
        apply(finding, raw, report)
    db.session.commit()


def process_reports(messages: Iterable[bytes]) -> BounceReport:
    """Read every report; forget soft bounces older than 30 days."""
    report = BounceReport()
    for raw in messages:
        try:
            process_report(raw, report)
        except Exception as error:  # one unreadable report must not stop the others
            db.session.rollback()
            report.unrecognised += 1
            current_app.logger.warning("bounce report not read: %s", type(error).__name__)
    db.session.execute(sa.delete(SoftBounce).where(SoftBounce.bounced_at < utcnow() - SOFT_WINDOW))
    db.session.commit()
    return report


def maildir_reports(folder: Path) -> Iterator[bytes]:
    """Each unread message of a Maildir (new/, and cur/ without the S flag), marked seen once handled."""
    for sub in ("new", "cur"):
        for path in sorted((folder / sub).iterdir()) if (folder / sub).is_dir() else []:
            base, _, flags = path.name.partition(":2,")
            if "S" in flags or path.name.startswith("."):
                continue
            yield path.read_bytes()
            path.rename(folder / "cur" / f"{base}:2,{''.join(sorted(set(flags + 'S')))}")


def mbox_reports(path: Path) -> Iterator[bytes]:
    """Each message of an mbox file (left as it is: soft bounces are counted once per report anyway)."""
    box = mailbox.mbox(path, create=False)
    try:
        for key in box.iterkeys():
            yield box.get_bytes(key)
    finally:
        box.close()
