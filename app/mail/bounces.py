"""Bounces and complaints: VERP return paths, reading DSNs (RFC 3464) and feedback reports (ARF, RFC 5965).

Read as providers mean them: 5.1.x and 5.2.1 (the mailbox is gone) are hard bounces and put the address on the
e-mail opt-out list (reason « opt_out », source « bounce »), as does a complaint (source « complaint »); 4.x.x are
soft, five within 30 days counting as a hard one; 5.7.x, blocklist and policy refusals are *blocks*: about our
sending, not the mailbox, they opt nobody out but are counted per receiving domain, and past MAIL_BLOCK_THRESHOLD
in 24 hours the outbox holds marketing mail to that domain (and `domain_blocked` tells the features).

A report is believed only when it names one of our messages: a DSN by our VERP return path
(`bounces+<outbox id>.<tag>@MAIL_BOUNCE_DOMAIN`, the tag an HMAC nobody else can make), a complaint by that or by
the Message-ID of a message we sent; the address is then the one we wrote to, never one the report names.
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
from blinker import signal
from flask import current_app

from app.database import utcnow
from app.extensions import db
from app.mail.models import MailBlock, OutboxMessage, SoftBounce
from app.personal import keyed_hash, normalise_email
from app.suppression.models import Channel
from app.suppression.services import SuppressionError, suppress

HARD, SOFT, COMPLAINT, BLOCK = "hard", "soft", "complaint", "block"
SOFT_LIMIT, SOFT_WINDOW = 5, timedelta(days=30)
BLOCK_WINDOW, BLOCK_RETENTION = timedelta(hours=24), timedelta(days=30)
TAG_LENGTH = 10
RECIPIENT_HEADERS = ("delivered-to", "x-original-to", "envelope-to", "to")
STATUS = re.compile(r"\b([245])\.\d{1,3}\.\d{1,3}\b")
SENDER_STATUSES = ("5.1.7", "5.1.8")  # our own sender address refused: about us, not the mailbox
# Words of refusals about the sender (its IP, domain or content), whatever status code comes with them.
ABOUT_US = re.compile(r"block|black ?list|deny ?list|spamhaus|spamcop|barracuda|sorbs|\b(?:dns)?rbl\b|"
                      r"reputation|policy|spam|junk|\blisted\b|banned|not allowed|prohibited|rate limit", re.IGNORECASE)
# Words of a mailbox that does not, or no longer, exist.
GONE = re.compile(r"user unknown|unknown user|no such (?:user|mailbox|recipient)|does(?: not|n't) exist|"
                  r"not found|unknown recipient|recipient unknown|invalid (?:recipient|mailbox)|mailbox unavailable|"
                  r"account (?:is |has been )?disabled|mailbox (?:is )?disabled|inactive", re.IGNORECASE)
QUOTED_MESSAGE = re.compile(r"^(?:return-path|received|from|message-id|dkim-signature):", re.IGNORECASE | re.MULTILINE)

# Sent (with the domain) when blocks from one receiving domain reach MAIL_BLOCK_THRESHOLD within 24 hours.
domain_blocked = signal("mail-domain-blocked")


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

    kind: str  # hard, soft, block or complaint
    address: str
    status: str = ""


def classify(status: str, diagnostic: str) -> str:
    """What a failure means: soft (4.x.x), a block (5.7.x, blocklist, policy), hard (the mailbox is gone), or soft
    for any other permanent failure (five make a hard one)."""
    if status.startswith("4"):
        return SOFT
    if status.startswith("5.7.") or status in SENDER_STATUSES:
        return BLOCK
    if GONE.search(diagnostic):  # the mailbox's own words win over a filter's name in the text ("antispam")
        return HARD
    if ABOUT_US.search(diagnostic):
        return BLOCK
    return HARD if status.startswith("5.1.") or status == "5.2.1" else SOFT


@dataclass
class BounceReport:
    """What reading a mailbox did (counts only: no address is printed or logged)."""

    read: int = 0
    hard: int = 0
    soft: int = 0
    blocks: int = 0
    complaints: int = 0
    unrecognised: int = 0
    not_ours: int = 0
    suppressed: int = 0

    def line(self) -> str:
        """One line for the operator."""
        return (f"read {self.read}: hard {self.hard}, soft {self.soft}, blocks {self.blocks}, "
                f"complaints {self.complaints}, no failure found {self.unrecognised}, "
                f"not about a message we sent {self.not_ours}; put on the opt-out list {self.suppressed}")


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
            diagnostic = block.get("diagnostic-code") or ""
            status = STATUS.search(block.get("status") or "") or STATUS.search(diagnostic)
            code = status.group(0) if status else "5.0.0"
            findings.append(Finding(classify(code, diagnostic), address, code))
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


def report_text(message: Message) -> str:
    """The human-readable text of a report, where older formats give the reason (up to the copy of our message,
    whose own words must not count)."""
    parts = [part.get_payload(decode=True) for part in message.walk() if part.get_content_type() == "text/plain"]
    text = "\n".join(part.decode("utf-8", "replace") for part in parts if isinstance(part, bytes))
    return QUOTED_MESSAGE.split(text, maxsplit=1)[0]


def other_findings(message: Message) -> list[Finding]:
    """Older and odd formats (Exim, qmail, Exchange, …), through flufl.bounce's detectors; what a permanent failure
    means is read from the report's text."""
    from flufl.bounce import all_failures  # loaded by `flask mail bounces` only

    temporary, permanent = all_failures(message)
    text = report_text(message)
    status = STATUS.search(text)
    code = status.group(0) if status and status.group(1) == "5" else "5.0.0"
    return ([Finding(classify(code, text), a.decode("ascii", "replace"), code) for a in sorted(permanent)]
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


def our_message(raw: bytes, message: Message) -> OutboxMessage | None:
    """The message of ours a report is about: by its VERP tag, or (a complaint) by the quoted Message-ID."""
    ours = verp_message(raw, message)
    if ours is None and report_type(message) == "feedback-report":
        ours = reported_message(message)
    return ours


def read_report(raw: bytes) -> list[Finding] | None:
    """The findings of one report, about the address we wrote to ([] when it reports no failure); None when it names
    no message of ours, so is not believed (anyone can write a report naming anyone)."""
    message = message_from_bytes(raw)
    findings = findings_of(message)
    if not findings:
        return []
    ours = our_message(raw, message)
    if ours is None:
        return None
    worst = min(findings, key=lambda f: (COMPLAINT, HARD, BLOCK, SOFT).index(f.kind))
    return [Finding(worst.kind, ours.recipient, worst.status)]


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


def receiving_domain(address: str) -> str:
    """The domain part of an address, lower-case."""
    return address.rpartition("@")[2].lower()


def recent_blocks(domain: str) -> int:
    """Blocks from the domain within the last 24 hours."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(MailBlock).where(
        MailBlock.domain == domain, MailBlock.blocked_at >= utcnow() - BLOCK_WINDOW)) or 0


def record_block(finding: Finding, raw: bytes) -> None:
    """Count a block against the receiving domain (once per report); tell the features when it reaches the
    threshold."""
    digest, domain = hashlib.sha256(raw).hexdigest(), receiving_domain(finding.address)
    if db.session.scalar(sa.select(MailBlock.id).where(MailBlock.report_sha256 == digest)) is not None:
        return
    db.session.add(MailBlock(domain=domain, report_sha256=digest, status=finding.status[:20]))
    db.session.flush()
    if recent_blocks(domain) == current_app.config["MAIL_BLOCK_THRESHOLD"]:
        domain_blocked.send(domain)


def paused_domains() -> set[str]:
    """Receiving domains whose blocks within 24 hours reach MAIL_BLOCK_THRESHOLD: marketing to them waits."""
    return set(db.session.scalars(
        sa.select(MailBlock.domain).where(MailBlock.blocked_at >= utcnow() - BLOCK_WINDOW)
        .group_by(MailBlock.domain).having(sa.func.count() >= current_app.config["MAIL_BLOCK_THRESHOLD"])))


def apply(finding: Finding, raw: bytes, report: BounceReport) -> None:
    """Act on one finding: the e-mail opt-out list for a hard bounce, a complaint, or the fifth soft bounce; a block
    is counted against its domain only."""
    counter = {HARD: "hard", SOFT: "soft", BLOCK: "blocks", COMPLAINT: "complaints"}[finding.kind]
    setattr(report, counter, getattr(report, counter) + 1)
    if finding.kind == BLOCK:
        record_block(finding, raw)
        return
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
    if findings is None:
        report.not_ours += 1
    elif not findings:
        report.unrecognised += 1
    for finding in findings or []:
        apply(finding, raw, report)
    db.session.commit()


def process_reports(messages: Iterable[bytes]) -> BounceReport:
    """Read every report; forget soft bounces older than 30 days and blocks older than 30 days."""
    report = BounceReport()
    for raw in messages:
        try:
            process_report(raw, report)
        except Exception as error:  # one unreadable report must not stop the others
            db.session.rollback()
            report.unrecognised += 1
            current_app.logger.warning("bounce report not read: %s", type(error).__name__)
    db.session.execute(sa.delete(SoftBounce).where(SoftBounce.bounced_at < utcnow() - SOFT_WINDOW))
    db.session.execute(sa.delete(MailBlock).where(MailBlock.blocked_at < utcnow() - BLOCK_RETENTION))
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
