"""`flask rights …`: reminders to staff, expiry of unconfirmed requests, purge of old data packages."""

import click
from flask.cli import AppGroup

from app.database import utcnow
from app.extensions import db
from app.rights import maintenance

rights = AppGroup("rights", help="Rights requests: reminders and housekeeping.")


@rights.command("remind")
def remind() -> None:
    """E-mail staff the open requests due within 7 days or overdue (run daily)."""
    report = maintenance.remind_staff()
    click.echo(f"{report.requests} request(s) due within 7 days or overdue; {report.recipients} staff member(s) told.")
    for reference, system, since in report.late_systems:
        click.echo(f"{reference}: connected system {system} has not answered since {since.isoformat()}")


@rights.command("expire")
def expire() -> None:
    """Two rules of the retention register: close requests unconfirmed after 30 days, empty packages past 7 days."""
    now = utcnow()
    expired = maintenance.expire_unconfirmed(now).acted
    purged = maintenance.purge_packages(now).acted
    db.session.commit()
    click.echo(f"{expired} unconfirmed request(s) expired; {purged} data package(s) purged.")
