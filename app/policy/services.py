"""Publishing and reading policy versions, and notifying people of material changes."""

from collections.abc import Callable, Iterable
from pathlib import Path

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _

from app.extensions import db
from app.mail.services import queue_template_mail
from app.policy.models import PolicyVersion

CONTROLLER_NAME = "K-Technology & Services"
CONTROLLER_ADDRESS = "Tour Ariane La Défense 9 – 5, Place de La Pyramide 92088 Paris La Défense Cedex"
FIRST_VERSION_DIR = Path(__file__).resolve().parent.parent.parent / "content" / "policy" / "v1"
FIRST_VERSION_SUMMARY = "Première publication de la politique de confidentialité."

# Each feature that knows people's addresses adds a function returning them (for material notices).
NOTICE_RECIPIENT_SOURCES: list[Callable[[], Iterable[str]]] = []


class PolicyError(Exception):
    """A publication that cannot be made, with the reason."""


def current_version() -> PolicyVersion | None:
    """The latest published version."""
    return db.session.scalar(sa.select(PolicyVersion).order_by(PolicyVersion.number.desc()).limit(1))


def version_by_number(number: int) -> PolicyVersion | None:
    """One version by its number."""
    return db.session.scalar(sa.select(PolicyVersion).where(PolicyVersion.number == number))


def all_versions() -> list[PolicyVersion]:
    """Every version, newest first."""
    return list(db.session.scalars(sa.select(PolicyVersion).order_by(PolicyVersion.number.desc())))


def publish(text_fr: str, summary: str, text_en: str | None = None,
            material: bool = False) -> tuple[PolicyVersion, int]:
    """Publish a new version; a material one queues a notice per known address, in the same commit."""
    if not text_fr.strip() or not summary.strip():
        raise PolicyError("the French text and the summary are both required")
    latest = current_version()
    version = PolicyVersion(
        number=(latest.number + 1) if latest else 1, summary=summary.strip(),
        text_fr=text_fr.strip(), text_en=text_en.strip() if text_en else None, material=material,
    )
    db.session.add(version)
    notified = queue_material_notices(version) if material else 0
    db.session.commit()
    return version, notified


def notice_recipients() -> list[str]:
    """Every known address, normalised and once each."""
    addresses = {address.strip().lower() for source in NOTICE_RECIPIENT_SOURCES for address in source()}
    return sorted(address for address in addresses if address)


def queue_material_notices(version: PolicyVersion) -> int:
    """Queue one notice per address (in French, the policy's language)."""
    recipients = notice_recipients()
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
