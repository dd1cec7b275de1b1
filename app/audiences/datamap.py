"""Ad audiences in the data map: where the person's hashed address was sent; erasure queues them for removal."""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.audiences.models import AudienceMember
from app.datamap import SITE_SECURITY, DataKind, Person
from app.extensions import db
from app.personal import keyed_hash, normalise_email


def members_of(person: Person) -> sa.Select:
    """The person's audience memberships."""
    return sa.select(AudienceMember).where(AudienceMember.person_hash == keyed_hash(normalise_email(person.email)))


def export_memberships(person: Person) -> list[dict]:
    """Which platform's audience, for which list, since when (the hashes the platform received)."""
    if not person.email:
        return []
    return [{"platform": m.platform, "list": m.list_slug, "exported_at": m.exported_at.isoformat(),
             "email_sha256": m.email_sha256, "phone_sha256": m.phone_sha256}
            for m in db.session.scalars(members_of(person))]


def erase_memberships(person: Person) -> int:
    """Unlink the person from their memberships: the next removals file takes them out of each platform, then
    the rows go."""
    if not person.email:
        return 0
    result = db.session.execute(sa.update(AudienceMember).where(
        AudienceMember.person_hash == keyed_hash(normalise_email(person.email))).values(person_hash=None))
    return result.rowcount or 0


# What this feature adds to the data map (registered in create_app).
KINDS = (
    DataKind(
        name="audiences_publicitaires", models=(AudienceMember,),
        purpose=_l("Vous proposer des publicités personnalisées sur les réseaux sociaux et les sites de Google "
                   "(reciblage), à partir de votre adresse e-mail ou de votre numéro chiffrés (SHA-256)."),
        legal_basis=_l("Consentement (cookies de publicité ciblée acceptés)."),
        retention=_l("Tant que votre consentement et votre inscription valent\u00a0; retirés des plateformes au "
                     "fichier de retrait suivant votre retrait, votre désinscription ou votre effacement."),
        recipients=_l("Google Ireland Limited (Customer Match) et Meta Platforms Ireland Limited (audiences "
                      "personnalisées)."),
        title=_l("Audiences publicitaires (reciblage)"),
        people=_l("Abonnés confirmés à une liste qui ont accepté les cookies de publicité ciblée."),
        data_categories=_l("Empreintes SHA-256 de l’adresse e-mail et du numéro de mobile (jamais en clair), "
                           "plateforme, liste, date de l’export."),
        processors=("google_audiences", "meta", "host"), transfers=("google_audiences", "meta"),
        security=_l("%(site)s Empreintes seulement, fichiers tracés (auteur, date, nombre, somme de contrôle), "
                    "fichier de retrait pour chaque retrait de consentement, désinscription ou effacement.",
                    site=SITE_SECURITY),
        export=export_memberships, erase=erase_memberships,
        fields=("platform", "list", "exported_at", "email_sha256", "phone_sha256"),
    ),
)
