"""Audiences for ad platforms (policy, section 4, on the basis of consent): only confirmed subscribers of a list who
accepted targeted advertising and are not on the opt-out list, normalised and SHA-256 hashed as each platform
documents; every file recorded, and a removals file for everyone who no longer qualifies."""

import csv
import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from app.audiences.models import AudienceExport, AudienceMember
from app.consent.models import ConsentRecord, ConsentSubject
from app.consent.state import COOKIE_LIFETIME
from app.database import utcnow
from app.extensions import db
from app.newsletter.lists import is_list
from app.newsletter.models import ChannelStatus, ListStatus, Subscriber, Subscription
from app.spreadsheet import safe_row
from app.suppression.models import Channel, Suppression
from app.suppression.services import suppressed_clause

ADVERTISING = "advertising"  # the register's category whose consent covers ad audiences
CHUNK = 500


class AudienceError(ValueError):
    """An export that cannot be made as asked."""


def google_email(address: str) -> str:
    """Google: trimmed, lower-case, and no dots before @ in gmail.com and googlemail.com addresses."""
    local, _, domain = address.strip().lower().partition("@")
    return f"{local.replace('.', '')}@{domain}" if domain in ("gmail.com", "googlemail.com") else f"{local}@{domain}"


def meta_email(address: str) -> str:
    """Meta: trimmed, lower-case."""
    return address.strip().lower()


def meta_phone(e164: str) -> str:
    """Meta: digits only, with the country code and no leading « + »."""
    return "".join(char for char in e164 if char.isdigit())


@dataclass(frozen=True)
class Platform:
    """How a platform wants identifiers normalised, and the columns of its upload file."""

    email: callable
    phone: callable
    columns: tuple[str, str]


PLATFORMS = {
    "google": Platform(email=google_email, phone=lambda e164: e164, columns=("Email", "Phone")),  # E.164, with +
    "meta": Platform(email=meta_email, phone=meta_phone, columns=("email", "phone")),
}


def sha256(value: str | None) -> str:
    """The SHA-256 hex digest platforms match on (empty for a missing value)."""
    return hashlib.sha256(value.encode()).hexdigest() if value else ""


@dataclass(frozen=True)
class Candidate:
    """A subscriber who may be in the audience: our keyed hash of the address, the address, a proven number."""

    person_hash: str
    email: str
    phone: str | None


def list_subscribers(slug: str) -> list[Candidate]:
    """Confirmed subscribers following the list whose address is not on the opt-out list (any reason), with their
    number when it was proven for SMS and is not on the SMS opt-out list."""
    phone_usable = sa.and_(Subscriber.sms_status == ChannelStatus.CONFIRMED,
                           ~suppressed_clause(Channel.SMS, Subscriber.phone_hash))
    rows = db.session.execute(
        sa.select(Subscriber.email_hash, Subscriber.email, sa.case((phone_usable, Subscriber.phone)))
        .join(Subscription, Subscription.subscriber_id == Subscriber.id)
        .where(Subscription.list_slug == slug, Subscription.status == ListStatus.ACTIVE,
               Subscriber.email_status == ChannelStatus.CONFIRMED, Subscriber.email.is_not(None),
               ~suppressed_clause(Channel.EMAIL, Subscriber.email_hash)))
    return [Candidate(person_hash, email, phone) for person_hash, email, phone in rows]


def chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    """Pieces small enough for an IN (…) list."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


def latest_choices(person_hashes: list[str]) -> dict[str, ConsentRecord]:
    """Each person's most recent cookie choice, over every consent id (device) linked to their address."""
    latest: dict[str, ConsentRecord] = {}
    for piece in chunks(person_hashes):
        links = db.session.execute(sa.select(ConsentSubject.email_hash, ConsentSubject.consent_id).where(
            ConsentSubject.email_hash.in_(piece))).all()
        owners = {consent_id: person for person, consent_id in links}
        for record in db.session.scalars(sa.select(ConsentRecord).where(
                ConsentRecord.consent_id.in_(list(owners)))) if owners else []:
            person = owners[record.consent_id]
            if person not in latest or record.recorded_at > latest[person].recorded_at:
                latest[person] = record
    return latest


def consents(record: ConsentRecord | None, now: datetime) -> bool:
    """Whether a choice accepts targeted advertising and is still valid (a choice lasts as long as its cookie)."""
    return bool(record and (record.choices or {}).get(ADVERTISING) and record.recorded_at > now - COOKIE_LIFETIME)


def audience(slug: str, now: datetime | None = None) -> list[Candidate]:
    """Who may be in the list's audience today: confirmed, consenting to advertising, not opted out."""
    if not is_list(slug):
        raise AudienceError(f"unknown list {slug!r}")
    now = now or utcnow()
    candidates = list_subscribers(slug)
    choices = latest_choices([c.person_hash for c in candidates])
    return [c for c in candidates if consents(choices.get(c.person_hash), now)]


@dataclass(frozen=True)
class ExportReport:
    """What a file holds."""

    count: int
    checksum: str


def write_file(path: Path, platform: Platform, rows: list[tuple[str, str]]) -> str:
    """Write the CSV the platform takes (hashed identifiers only); its SHA-256."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(safe_row(platform.columns))
    writer.writerows(safe_row(row) for row in rows)
    data = buffer.getvalue().encode()
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def export_audience(platform_name: str, slug: str, out: Path, made_by: str) -> ExportReport:
    """Write the audience file, remember who is in it, record the export; commits."""
    platform = PLATFORMS[platform_name]
    people = audience(slug)
    rows = [(sha256(platform.email(p.email)), sha256(platform.phone(p.phone) if p.phone else None)) for p in people]
    checksum = write_file(out, platform, rows)
    remember_members(platform_name, slug, people, rows)
    db.session.add(AudienceExport(made_by=made_by[:120], platform=platform_name, list_slug=slug, count=len(rows),
                                  checksum=checksum))
    db.session.commit()
    return ExportReport(len(rows), checksum)


def remember_members(platform: str, slug: str, people: list[Candidate], rows: list[tuple[str, str]]) -> None:
    """Keep who the platform now has (as it has them, hashed), to take them out when they stop qualifying."""
    known = {m.person_hash: m for m in db.session.scalars(sa.select(AudienceMember).where(
        AudienceMember.platform == platform, AudienceMember.list_slug == slug))}
    for person, (email_sha, phone_sha) in zip(people, rows, strict=True):
        member = known.get(person.person_hash) or AudienceMember(platform=platform, list_slug=slug,
                                                                 person_hash=person.person_hash)
        member.email_sha256, member.phone_sha256, member.exported_at = email_sha, phone_sha or None, utcnow()
        db.session.add(member)


def changed_since(person_hash: str, since: datetime) -> bool:
    """Whether the person stopped qualifying on or after a date: opted out, left the list or withdrew consent."""
    opted_out = db.session.scalar(sa.select(sa.func.max(Suppression.created_at)).where(
        Suppression.channel == Channel.EMAIL, Suppression.identifier_hash == person_hash))
    left = db.session.scalar(sa.select(sa.func.max(Subscription.unsubscribed_at)).join(Subscriber).where(
        Subscriber.email_hash == person_hash))
    withdrawn = latest_choices([person_hash]).get(person_hash)
    moments = [moment for moment in (opted_out, left, withdrawn.recorded_at if withdrawn else None) if moment]
    return not moments or max(moments) >= since


def export_removals(platform_name: str, slug: str, since: datetime, out: Path, made_by: str) -> ExportReport:
    """Write the hashes to take out of the platform's audience: people who no longer qualify, erased people
    included; they are forgotten once written; commits."""
    if not is_list(slug):
        raise AudienceError(f"unknown list {slug!r}")
    staying = {person.person_hash for person in audience(slug)}
    members = db.session.scalars(sa.select(AudienceMember).where(
        AudienceMember.platform == platform_name, AudienceMember.list_slug == slug)).all()
    leaving = [m for m in members if m.person_hash is None
               or (m.person_hash not in staying and changed_since(m.person_hash, since))]
    checksum = write_file(out, PLATFORMS[platform_name], [(m.email_sha256 or "", m.phone_sha256 or "")
                                                          for m in leaving])
    for member in leaving:
        db.session.delete(member)
    db.session.add(AudienceExport(made_by=made_by[:120], platform=platform_name, list_slug=slug, removals=True,
                                  count=len(leaving), checksum=checksum))
    db.session.commit()
    return ExportReport(len(leaving), checksum)
