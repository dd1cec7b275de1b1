"""Rights requests in the data map: exported to the person; erasure keeps only the erasure request itself."""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.connectors.models import ConnectorCall
from app.connectors.services import calls_for
from app.datamap import HOSTING, SITE_SECURITY, DataKind, Person, delete_rows, rows_of
from app.extensions import db
from app.processors import CAPTCHA
from app.rights import models as m


def when(value) -> str | None:
    """A date or time as ISO text."""
    return value.isoformat() if value else None


def requests_of(person: Person) -> list[m.RightsRequest]:
    """The requests sent from the person's address."""
    return rows_of(m.RightsRequest, person)


def export_requests(person: Person) -> list[dict]:
    """Each request as the person sent it, with its status and public steps."""
    return [{
        "reference": r.reference, "type": r.kind, "status": r.status, "name": r.name, "email": r.email,
        "phone": r.phone, "postal_address": r.postal_address, "message": r.message, "correction": r.correction,
        "designated_name": r.designated_name, "designated_contact": r.designated_contact,
        "received_at": when(r.received_at), "confirmed_at": when(r.confirmed_at), "due_on": when(r.deadline),
        "closed_at": when(r.closed_at), "outcome": r.outcome,
        "steps": [{"at": when(e.occurred_at), "action": e.action} for e in r.events if e.public],
        "connected_systems": [{"system": c.system.name, "type": c.request_type, "status": c.status,
                               "queued_at": when(c.created_at), "answered_at": when(c.answered_at),
                               "answer": c.answer} for c in calls_for(r.id)],
    } for r in requests_of(person)]


def erase_requests(person: Person) -> int:
    """Delete every data package and every request but the open erasure request (its own legal record)."""
    rows = requests_of(person)
    db.session.execute(sa.delete(m.DataPackage).where(m.DataPackage.request_id.in_([r.id for r in rows])))
    closed = [r.id for r in rows if not (r.is_open and r.kind == m.Kind.ERASURE)]
    if not closed:
        return 0
    db.session.execute(sa.delete(m.RequestEvent).where(m.RequestEvent.request_id.in_(closed)))
    db.session.execute(sa.delete(ConnectorCall).where(ConnectorCall.request_id.in_(closed)))
    db.session.execute(sa.update(m.PostMortemDirective).where(m.PostMortemDirective.request_id.in_(closed)).values(
        request_id=None))
    db.session.execute(sa.delete(m.RightsRequest).where(m.RightsRequest.id.in_(closed)),
                       execution_options={"synchronize_session": False})
    db.session.expire_all()
    return len(closed)


def directives_of(person: Person) -> list[m.PostMortemDirective]:
    """The person's post-mortem directives, revoked ones included."""
    return rows_of(m.PostMortemDirective, person)


def export_directives(person: Person) -> list[dict]:
    """Each directive with the designated person and whether it was revoked."""
    return [{"instructions": d.instructions, "designated_name": d.designated_name,
             "designated_contact": d.designated_contact, "recorded_at": when(d.recorded_at),
             "revoked_at": when(d.revoked_at)} for d in directives_of(person)]


def erase_directives(person: Person) -> int:
    """Delete the person's directives."""
    return delete_rows(directives_of(person))


# What this feature adds to the data map (registered in create_app).
KINDS = (
    DataKind(
        name="demandes_droits", models=(m.RightsRequest, m.RequestEvent, m.DataPackage, ConnectorCall),
        purpose=_l("Traiter vos demandes d’exercice de droits, vos questions et réclamations, et prouver que nous y "
                   "avons répondu dans les délais."),
        legal_basis=_l("Obligation légale (articles 12 à 22 du RGPD)."),
        retention=_l("Le temps du traitement, puis archivées cinq ans comme preuve\u00a0; les dossiers de données "
                     "téléchargeables sont supprimés après 7 jours."),
        recipients=_l("K-Technology & Services (équipe chargée des demandes et délégué à la protection des données)."),
        title=_l("Demandes d’exercice des droits et questions"),
        people=_l("Personnes qui exercent leurs droits ou nous posent une question."),
        data_categories=_l("Nom, adresse e-mail, téléphone, adresse postale (opposition), type et texte de la demande, "
                           "correction demandée, préfixe tronqué de l’adresse IP, étapes du traitement, réponse, "
                           "dossier de données préparé."),
        processors=("mail", CAPTCHA, "host"), transfers=(CAPTCHA,), connected_systems=True,
        security=_l("%(site)s Adresse confirmée avant toute communication, dossiers de données supprimés après 7 "
                    "jours, effacement réservé au délégué à la protection des données.", site=SITE_SECURITY),
        export=export_requests, erase=erase_requests,
        fields=("reference", "type", "status", "name", "email", "phone", "message", "received_at", "steps"),
    ),
    DataKind(
        name="directives_post_mortem", models=(m.PostMortemDirective,),
        purpose=_l("Appliquer vos directives sur vos données après votre décès (article 85 de la loi Informatique "
                   "et Libertés)."),
        legal_basis=_l("Obligation légale."),
        retention=_l("Jusqu’à leur révocation ou leur exécution."),
        recipients=_l("K-Technology & Services et la personne que vous avez désignée."),
        title=_l("Directives post-mortem"),
        people=_l("Personnes qui laissent des directives, et la personne qu’elles désignent."),
        data_categories=_l("Directives, nom et coordonnées de la personne désignée, dates d’enregistrement et de "
                           "révocation."),
        processors=HOSTING, transfers=(),
        security=SITE_SECURITY,
        export=export_directives, erase=erase_directives,
        fields=("instructions", "designated_name", "designated_contact", "recorded_at", "revoked_at"),
    ),
)
