"""Daily housekeeping: remind staff of deadlines; the retention rules of requests, packages and directives."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.auth.services import active_staff_addresses
from app.connectors.models import ConnectorCall
from app.connectors.services import late_calls
from app.extensions import db
from app.mail.services import queue_mail
from app.retention.register import P1_ACTIVE_DATABASE, P8_NECESSARY, P8_PROOF, Action, Outcome, Rule
from app.retention.runner import bulk
from app.rights import models as m
from app.rights import services
from app.rights.deadlines import DUE_SOON_DAYS, UNCONFIRMED_LIFETIME, Urgency, urgency
from app.rights.labels import KIND_LABELS, SYSTEM
from app.urls import site_url


@dataclass(frozen=True)
class ReminderReport:
    """How many requests were due and how many staff were told."""

    requests: int
    recipients: int
    late_systems: list[tuple[str, str, date]] = field(default_factory=list)  # (reference, system, queued on)


def remind_staff() -> ReminderReport:
    """One e-mail per staff member listing the requests due within 7 days or overdue; commits."""
    today = services.today()
    due = services.open_requests_due_by(today + timedelta(days=DUE_SOON_DAYS))
    late = [(call.reference, call.system.name, call.created_at.date()) for call in late_calls()]
    recipients = active_staff_addresses() if due or late else []
    if not recipients:
        return ReminderReport(len(due), 0, late)
    rows = [{"request": r, "kind": KIND_LABELS[r.kind], "urgency": urgency(r.deadline, today),
             "url": site_url("backoffice.request_detail", reference=r.reference)} for r in due]
    with force_locale("fr"):
        text = render_template("rights/mail/reminder.txt", rows=rows, today=today, Status=m.Status, Urgency=Urgency,
                               late_systems=late)
        subject = _("Demandes RGPD\u00a0: %(count)s à traiter sous 7 jours ou en retard", count=len(due))
    for address in recipients:
        queue_mail(address, subject, text, kind="staff")
    db.session.commit()
    return ReminderReport(len(due), len(recipients), late)


CLOSED_RETENTION = timedelta(days=5 * 365)
NEVER_CONFIRMED_RETENTION = timedelta(days=30)
REVOKED_RETENTION = timedelta(days=30)
PACKAGE_LIFETIME = timedelta(days=7)
REQUEST_TABLES = ("rights_requests", "rights_request_events", "rights_data_packages", "connector_calls")


def count(query: sa.Select) -> int:
    """How many rows a query selects."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0


def expire_unconfirmed(now: datetime) -> Outcome:
    """Close the requests whose address was not confirmed within 30 days, each with an « expired » step."""
    stale = sa.select(m.RightsRequest.id).where(m.RightsRequest.status == m.Status.UNCONFIRMED,
                                                m.RightsRequest.received_at < now - UNCONFIRMED_LIFETIME)
    found = count(stale)
    if found:
        steps = stale.with_only_columns(m.RightsRequest.id, sa.literal(now, m.RequestEvent.occurred_at.type),
                                        sa.literal(SYSTEM), sa.literal("expired"), sa.literal({}, sa.JSON),
                                        sa.literal(True))
        db.session.execute(sa.insert(m.RequestEvent).from_select(
            ["request_id", "occurred_at", "actor", "action", "detail", "public"], steps))
        db.session.execute(sa.update(m.RightsRequest).where(m.RightsRequest.id.in_(stale.scalar_subquery()))
                           .values(status=m.Status.EXPIRED, closed_at=now), execution_options={
                               "synchronize_session": False})
    return Outcome(found, found)


def delete_requests(where: sa.ColumnElement[bool]) -> Outcome:
    """Delete the requests matching a condition, with their steps and packages (directives lose the link only)."""
    ids = list(db.session.scalars(sa.select(m.RightsRequest.id).where(where)))
    if ids:
        db.session.execute(sa.delete(m.RequestEvent).where(m.RequestEvent.request_id.in_(ids)))
        db.session.execute(sa.delete(m.DataPackage).where(m.DataPackage.request_id.in_(ids)))
        db.session.execute(sa.delete(ConnectorCall).where(ConnectorCall.request_id.in_(ids)))
        db.session.execute(sa.update(m.PostMortemDirective).where(m.PostMortemDirective.request_id.in_(ids))
                           .values(request_id=None))
        db.session.execute(sa.delete(m.RightsRequest).where(m.RightsRequest.id.in_(ids)),
                           execution_options={"synchronize_session": False})
    return Outcome(len(ids), len(ids))


def delete_never_confirmed(now: datetime) -> Outcome:
    """Requests whose address was never confirmed go 30 days after they expired."""
    return delete_requests(sa.and_(m.RightsRequest.status == m.Status.EXPIRED, m.RightsRequest.confirmed_at.is_(None),
                                   m.RightsRequest.closed_at < now - NEVER_CONFIRMED_RETENTION))


def delete_closed(now: datetime) -> Outcome:
    """Closed requests, kept 5 years as proof that we answered, then deleted (the opt-out list is another table)."""
    return delete_requests(sa.and_(m.RightsRequest.status.in_(m.CLOSED_STATUSES),
                                   m.RightsRequest.closed_at < now - CLOSED_RETENTION))


def purge_packages(now: datetime) -> Outcome:
    """Delete the content of data packages past their 7 days (the row stays in the request's record)."""
    return bulk(sa.update(m.DataPackage).where(m.DataPackage.expires_at <= now, m.DataPackage.content.is_not(None))
                .values(content=None))


def delete_revoked_directives(now: datetime) -> Outcome:
    """Revoked post-mortem directives go a month after their revocation."""
    return bulk(sa.delete(m.PostMortemDirective).where(m.PostMortemDirective.revoked_at < now - REVOKED_RETENTION))


# What this feature adds to the retention register (registered in create_app, run in this order).
RULES = (
    Rule("demandes_non_confirmees", ("rights_requests", "rights_request_events"),
         _l("Demandes d’exercice de droits dont l’adresse n’a pas été confirmée"), UNCONFIRMED_LIFETIME,
         _l("30 jours"), _l("la réception de la demande"), Action.CLOSE, (P8_NECESSARY,), expire_unconfirmed),
    Rule("demandes_expirees", REQUEST_TABLES, _l("Demandes expirées faute de confirmation"),
         NEVER_CONFIRMED_RETENTION, _l("30 jours"), _l("l’expiration de la demande"), Action.DELETE,
         (P8_NECESSARY,), delete_never_confirmed),
    Rule("demandes_droits", REQUEST_TABLES, _l("Demandes d’exercice de droits, leur historique et nos réponses"),
         CLOSED_RETENTION, _l("5 ans"), _l("la clôture de la demande"), Action.DELETE, (P8_PROOF,), delete_closed),
    Rule("dossiers_donnees", ("rights_data_packages",), _l("Dossiers de données téléchargeables (accès, portabilité)"),
         PACKAGE_LIFETIME, _l("7 jours"), _l("la préparation du dossier"), Action.CLEAR_BODY, (P8_NECESSARY,),
         purge_packages),
    Rule("directives_revoquees", ("rights_post_mortem_directives",), _l("Directives post-mortem révoquées"),
         REVOKED_RETENTION, _l("1 mois"), _l("la révocation"), Action.DELETE, (P1_ACTIVE_DATABASE,),
         delete_revoked_directives),
    Rule("directives_post_mortem", ("rights_post_mortem_directives",), _l("Directives post-mortem en vigueur"),
         None, _l("jusqu’à leur révocation ou leur exécution"), _l("leur enregistrement"), Action.KEEP,
         (P8_PROOF,)),
)
