"""`flask rights …`: reminders to staff, expiry of unconfirmed requests, purge of old data packages."""

import click
from flask.cli import AppGroup

from app.rights import maintenance, services

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
    """Close the requests whose address was not confirmed within 30 days, and purge expired data packages."""
    expired = services.expire_unconfirmed()
    purged = maintenance.purge_packages()
    click.echo(f"{expired} unconfirmed request(s) expired; {purged} data package(s) purged.")
