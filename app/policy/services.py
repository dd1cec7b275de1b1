"""Publishing and reading policy versions, and notifying people of material changes."""

import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from blinker import signal
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import defer

from app.extensions import db
from app.mail.services import queue_template_mail
from app.personal import normalise_email
from app.policy.models import PolicyVersion
from app.policy.text import parse_policy

CONTROLLER_NAME = "K-Technology & Services"
CONTROLLER_ADDRESS = "Tour Ariane La Défense 9 – 5, Place de La Pyramide 92088 Paris La Défense Cedex"
FIRST_VERSION_DIR = Path(__file__).resolve().parent.parent.parent / "content" / "policy" / "v1"
FIRST_VERSION_SUMMARY = "Première publication de la politique de confidentialité."

# Sent with the new version when a material change is published; each receiver (connected in create_app by the
# features that know people's addresses) returns the addresses to notify.
notice_recipients_wanted = signal("policy-notice-recipients-wanted")


class PolicyError(Exception):
    """A publication that cannot be made, with the reason."""


# Pages served from memory need a version's number and date only; its texts are read when first used.
LIGHT = (defer(PolicyVersion.text_fr), defer(PolicyVersion.text_en))


def current_version() -> PolicyVersion | None:
    """The latest published version."""
    return db.session.scalar(sa.select(PolicyVersion).options(*LIGHT).order_by(PolicyVersion.number.desc()).limit(1))


@dataclass(frozen=True)
class VersionInForce:
    """What a page served from memory needs of the version in force: its id, number and date."""

    id: int
    number: int
    published_at: datetime


IN_FORCE = "kinv.policy_in_force"


def version_in_force() -> VersionInForce | None:
    """The latest published version, read from the database at most every POLICY_RECHECK_SECONDS in a process
    (and again at once if the clock went back)."""
    known = current_app.extensions.setdefault(IN_FORCE, {"read_at": -1.0})
    now = time.time()
    if not known["read_at"] <= now < known["read_at"] + current_app.config["POLICY_RECHECK_SECONDS"]:
        latest = current_version()
        known["version"] = VersionInForce(latest.id, latest.number, latest.published_at) if latest else None
        known["read_at"] = now
    return known["version"]


def version_by_id(version_id: int) -> PolicyVersion | None:
    """One version with its texts."""
    return db.session.get(PolicyVersion, version_id)


def current_version_number() -> int | None:
    """The number of the policy in force as this process shows it (recorded with each consent: the version the
    visitor's pages showed, read at most every POLICY_RECHECK_SECONDS), or None before the first publication."""
    version = version_in_force()
    return version.number if version else None


def version_by_number(number: int) -> PolicyVersion | None:
    """One version by its number."""
    return db.session.scalar(sa.select(PolicyVersion).options(*LIGHT).where(PolicyVersion.number == number))


def all_versions() -> list[PolicyVersion]:
    """Every version, newest first."""
    return list(db.session.scalars(sa.select(PolicyVersion).order_by(PolicyVersion.number.desc())))


def check_texts(text_fr: str, summary: str, text_en: str | None = None) -> None:
    """Refuse a version without its French text or summary, or whose texts have no numbered section."""
    if not text_fr.strip() or not summary.strip():
        raise PolicyError(_l("Le texte français et le résumé des modifications sont tous deux requis."))
    for text in (text_fr, text_en):
        if text and text.strip() and not parse_policy(text).sections:
            raise PolicyError(_l("Le texte n’a aucune section numérotée (une ligne telle que « 1- Qui "
                                 "sommes-nous\u00a0? »)."))


def publish(text_fr: str, summary: str, text_en: str | None = None, material: bool = False,
            published_by: str | None = None) -> tuple[PolicyVersion, int]:
    """Publish a new version (`published_by`: the staff member, or None from the command line); a material one
    queues a notice per known address, in the same commit."""
    check_texts(text_fr, summary, text_en)
    latest = current_version()
    version = PolicyVersion(
        number=(latest.number + 1) if latest else 1, summary=summary.strip(), published_by=published_by,
        text_fr=text_fr.strip(), text_en=text_en.strip() if text_en and text_en.strip() else None, material=material,
    )
    db.session.add(version)
    notified = queue_material_notices(version) if material else 0
    db.session.commit()
    current_app.extensions.pop(IN_FORCE, None)  # this process serves the new version at once
    return version, notified


def notice_recipients(version: PolicyVersion) -> list[str]:
    """Every known address, normalised and once each."""
    answers = notice_recipients_wanted.send(version)
    addresses = {normalise_email(address) for _receiver, found in answers for address in found}
    return sorted(address for address in addresses if address)


def queue_material_notices(version: PolicyVersion) -> int:
    """Queue one notice per address (in French, the policy's language)."""
    recipients = notice_recipients(version)
    with force_locale("fr"):
        subject = _("Mise à jour de notre politique de confidentialité")
        for address in recipients:
            queue_template_mail(address, subject, "policy_notice", version=version)
    return len(recipients)


def load_first_version() -> PolicyVersion | None:
    """Publish version 1 from the repository's text when no version exists yet."""
    if current_version() is not None:
        return None
    text_en_path = FIRST_VERSION_DIR / "en.txt"
    version, _notified = publish(
        (FIRST_VERSION_DIR / "fr.txt").read_text(encoding="utf-8"), FIRST_VERSION_SUMMARY,
        text_en_path.read_text(encoding="utf-8") if text_en_path.exists() else None,
    )
    return version
