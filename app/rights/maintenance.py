"""Daily housekeeping: remind staff of deadlines, expire unconfirmed requests, purge old packages."""

from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from app.auth.services import active_staff_addresses
from app.connectors.services import late_calls
from app.database import utcnow
from app.extensions import db
from app.mail.services import queue_mail
from app.rights import models as m
from app.rights import services
from app.rights.deadlines import DUE_SOON_DAYS, Urgency, urgency
from app.rights.labels import KIND_LABELS
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


def purge_packages() -> int:
    """Delete the content of data packages past their 7 days (the row stays in the request's record)."""
    result = db.session.execute(sa.update(m.DataPackage).where(
        m.DataPackage.expires_at <= utcnow(), m.DataPackage.content.is_not(None)).values(content=None))
    db.session.commit()
    return result.rowcount or 0
