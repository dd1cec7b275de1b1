"""`flask audit export`: the journal of staff reads, for the dpo or an inspection; `flask registre export`: the
record of processing activities."""

from datetime import UTC, datetime

import click
from flask.cli import AppGroup
from flask_babel import force_locale

from app.backoffice.audit import export_csv
from app.backoffice.register import export_text

audit = AppGroup("audit", help="The journal of staff reads.")
registre = AppGroup("registre", help="The record of processing activities (GDPR article 30).")


@audit.command("export")
@click.option("--since", "since", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="First day (YYYY-MM-DD, UTC) of the reads to export.")
def export_command(since: datetime) -> None:
    """Print the reads since a day as CSV (who, when, what); the export is itself recorded."""
    click.echo(export_csv(since.replace(tzinfo=UTC)), nl=False)


@registre.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.option("--lang", type=click.Choice(["fr", "en"]), default="fr", show_default=True,
              help="Language of the text (the French record is the one that counts).")
@click.option("--output", "-o", type=click.File("w", encoding="utf-8"), default="-",
              help="File to write (default: standard output).")
def export(fmt: str, lang: str, output) -> None:
    """Write the record, generated from the data map and the cookie register, as CSV or JSON."""
    with force_locale(lang):
        text = export_text(fmt)
    output.write(text if text.endswith("\n") else text + "\n")
