"""`flask audit export`: the journal of staff reads, for the dpo or an inspection."""

from datetime import UTC, datetime

import click
from flask.cli import AppGroup

from app.backoffice.audit import export_csv

audit = AppGroup("audit", help="The journal of staff reads.")


@audit.command("export")
@click.option("--since", "since", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="First day (YYYY-MM-DD, UTC) of the reads to export.")
def export_command(since: datetime) -> None:
    """Print the reads since a day as CSV (who, when, what); the export is itself recorded."""
    click.echo(export_csv(since.replace(tzinfo=UTC)), nl=False)
