"""What requesters and staff read for each request type, status and event."""

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp

from app.rights import models as m

KIND_LABELS = {
    m.Kind.ACCESS: _l("Accès à vos données"),
    m.Kind.RECTIFICATION: _l("Rectification"),
    m.Kind.ERASURE: _l("Effacement"),
    m.Kind.PORTABILITY: _l("Portabilité"),
    m.Kind.OBJECTION: _l("Opposition"),
    m.Kind.RESTRICTION: _l("Limitation du traitement"),
    m.Kind.WITHDRAWAL: _l("Retrait du consentement"),
    m.Kind.POST_MORTEM: _l("Directives post-mortem"),
    m.Kind.UNSUBSCRIBE: _lp("type de demande", "Désabonnement"),
    m.Kind.QUESTION: _l("Question ou réclamation"),
}

STATUS_LABELS = {
    m.Status.UNCONFIRMED: _l("Reçue, adresse à confirmer"),
    m.Status.CONFIRMED: _l("Adresse confirmée"),
    m.Status.IN_PROGRESS: _l("En cours de traitement"),
    m.Status.EXTENDED: _l("Délai prolongé"),
    m.Status.ANSWERED: _l("Répondue"),
    m.Status.REFUSED: _l("Refusée"),
    m.Status.EXPIRED: _l("Expirée (adresse jamais confirmée)"),
}

EVENT_LABELS = {
    "received": _l("Demande reçue"),
    "confirmed": _l("Adresse e-mail confirmée"),
    "expired": _l("Demande expirée faute de confirmation"),
    "note": _l("Note interne"),
    "package_built": _l("Dossier de données préparé et lien envoyé"),
    "package_downloaded": _l("Dossier de données téléchargé"),
    "erased": _l("Données effacées"),
    "rectified": _l("Données rectifiées"),
    "opted_out": _l("Opposition enregistrée sur tous les canaux"),
    "restricted": _l("Traitement limité"),
    "restriction_lifted": _l("Limitation levée"),
    "directives_recorded": _l("Directives post-mortem enregistrées"),
    "directives_revoked": _l("Directives post-mortem révoquées"),
    "extended": _l("Délai prolongé"),
    "refused": _l("Demande refusée"),
    "answered": _l("Réponse envoyée, demande close"),
    "started": _l("Traitement commencé"),
    "systems_overridden": _l("Clôture autorisée sans la réponse de systèmes connectés"),
    "acknowledgement_withheld": _l("Accusé de réception non envoyé\u00a0: cette adresse a reçu son "
                                   "maximum d’e-mails pour 24\u00a0heures"),
}

REQUESTER, SYSTEM = "demandeur", "système"
ACTOR_LABELS = {REQUESTER: _l("le demandeur"), SYSTEM: _l("tâche automatique")}


def N_(text: str) -> str:
    """Mark a message for extraction; it is translated later, in the requester's language."""
    return text
