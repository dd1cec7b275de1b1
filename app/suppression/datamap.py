"""The opt-out list in the data map: exported to the person, never erased (a legal obligation)."""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.datamap import HOSTING, SITE_SECURITY, DataKind, Person
from app.extensions import db
from app.suppression.models import Channel, Suppression
from app.suppression.services import SuppressionError, identifier_hash


def person_hashes(person: Person) -> list[tuple[str, str]]:
    """The (channel, keyed hash) pairs that stand for the person."""
    pairs = []
    for channel, values in ((Channel.EMAIL, {"email": person.email}), (Channel.SMS, {"phone": person.phone}),
                            (Channel.CALL, {"phone": person.phone})):
        if any(values.values()):
            try:
                pairs.append((channel, identifier_hash(channel, **values)))
            except SuppressionError:
                continue
    return pairs


def export_suppressions(person: Person) -> list[dict]:
    """The person's entries: channel, reason, date, source (the hash stands for the identifier they gave)."""
    rows = []
    for channel, hashed in person_hashes(person):
        entries = db.session.scalars(sa.select(Suppression).where(
            Suppression.channel == channel, Suppression.identifier_hash == hashed).order_by(Suppression.created_at))
        rows += [{"channel": e.channel, "reason": e.reason, "created_at": e.created_at.isoformat(),
                  "source": e.source, "identifier_hash": e.identifier_hash} for e in entries]
    return rows


def keep_suppressions(person: Person) -> int:
    """Erasure keeps the opt-out list: it is what stops us from writing to the person again."""
    return 0


# What this feature adds to the data map (registered in create_app).
KINDS = (
    DataKind(
        name="liste_opposition", models=(Suppression,),
        purpose=_l("Ne plus vous envoyer de prospection (e-mail, SMS) après votre désinscription ou une limitation "
                   "du traitement."),
        legal_basis=_l("Obligation légale\u00a0: respecter votre opposition (tenue d’une liste d’opt-out)."),
        retention=_l("Tant que l’opposition vaut\u00a0: conservée même après l’effacement de vos autres données, "
                     "sous la forme d’une empreinte (HMAC) de votre adresse ou de votre numéro, jamais en clair."),
        recipients=_l("K-Technology & Services uniquement."),
        title=_l("Liste d’opposition"),
        people=_l("Personnes qui se sont opposées à la prospection ou ont demandé une limitation du traitement."),
        data_categories=_l("Empreinte (HMAC) de l’adresse e-mail, du numéro de téléphone ou de l’adresse postale, "
                           "canal (e-mail, SMS, appel, courrier), motif, origine, date."),
        processors=HOSTING, transfers=(),
        security=_l("%(site)s Adresses et numéros jamais conservés en clair (empreinte à clé secrète).",
                    site=SITE_SECURITY),
        export=export_suppressions, erase=keep_suppressions,
        fields=("channel", "reason", "created_at", "source", "identifier_hash"),
    ),
)
