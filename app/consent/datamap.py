"""Consent proof in the data map: a person's consent records are exported; erasure removes the link only."""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.consent.models import ConsentRecord, ConsentSubject
from app.datamap import HOSTING, SITE_SECURITY, DataKind, Person
from app.extensions import db
from app.personal import keyed_hash


def linked_consent_ids(person: Person) -> list[str]:
    """The consent ids linked to the person's e-mail address."""
    if not person.email:
        return []
    email_hash = keyed_hash(person.email.strip().lower())
    return list(db.session.scalars(
        sa.select(ConsentSubject.consent_id).where(ConsentSubject.email_hash == email_hash).distinct()))


def export_consent(person: Person) -> list[dict]:
    """Every consent record of the consent ids linked to the person, oldest first."""
    ids = linked_consent_ids(person)
    if not ids:
        return []
    records = db.session.scalars(
        sa.select(ConsentRecord).where(ConsentRecord.consent_id.in_(ids)).order_by(ConsentRecord.recorded_at))
    return [record_as_dict(record) for record in records]


def record_as_dict(record: ConsentRecord) -> dict:
    """One record as plain data (export files, rights requests)."""
    return {
        "consent_id": record.consent_id, "recorded_at": record.recorded_at.isoformat(),
        "choices": dict(record.choices), "register_version": record.register_version,
        "policy_version": record.policy_version, "action": record.action, "withdrawal": record.withdrawal,
        "source": record.source, "channel": record.channel, "ip_prefix": record.ip_prefix,
        "browser": record.browser,
    }


def erase_consent(person: Person) -> int:
    """Delete the links between the person and their consent ids; the pseudonymous records stay as proof."""
    if not person.email:
        return 0
    email_hash = keyed_hash(person.email.strip().lower())
    result = db.session.execute(sa.delete(ConsentSubject).where(ConsentSubject.email_hash == email_hash))
    return result.rowcount or 0


# What this feature adds to the data map (registered in create_app).
KINDS = (
    DataKind(
        name="consentements_cookies", models=(ConsentRecord, ConsentSubject),
        purpose=_l("Preuve de vos choix en matière de cookies (acceptation, refus, retrait)."),
        legal_basis=_l("Obligation légale\u00a0: prouver le consentement (article 7 du RGPD)."),
        retention=_l("Choix valable 6 mois\u00a0; preuve conservée 5 ans puis supprimée. À l’effacement, le lien "
                     "entre vous et votre identifiant de consentement est supprimé\u00a0; l’enregistrement pseudonyme "
                     "reste."),
        recipients=_l("K-Technology & Services uniquement."),
        title=_l("Preuve des choix de cookies"),
        people=_l("Visiteurs du site."),
        data_categories=_l("Identifiant de consentement aléatoire, choix par catégorie, date, versions du registre "
                           "des cookies et de la politique, préfixe tronqué de l’adresse IP, famille de navigateur ; "
                           "lien avec l’empreinte (HMAC) de l’adresse e-mail quand la personne le demande."),
        processors=HOSTING, transfers=(),
        security=_l("%(site)s Journal en ajout seul (aucune modification d’une preuve), adresse IP tronquée, adresse "
                    "e-mail jamais en clair.", site=SITE_SECURITY),
        export=export_consent, erase=erase_consent,
        fields=("consent_id", "recorded_at", "choices", "register_version", "policy_version", "action",
                "withdrawal", "source", "channel", "ip_prefix", "browser"),
    ),
)
