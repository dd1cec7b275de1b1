"""`flask registre`: the record of processing activities, exported."""

import click
from flask.cli import AppGroup
from flask_babel import force_locale

from app.backoffice.register import export_text

registre = AppGroup("registre", help="The record of processing activities (GDPR article 30).")


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
