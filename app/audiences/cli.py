"""`flask audiences export`: the hashed audience of a list for Google or Meta, or the hashes to take out."""

import getpass
from datetime import UTC
from pathlib import Path

import click
from flask.cli import AppGroup

from app.audiences.services import PLATFORMS, AudienceError, export_audience, export_removals

audiences = AppGroup("audiences", help="Ad audiences (consenting, confirmed, not opted out), hashed.")


@audiences.command("export")
@click.option("--platform", required=True, type=click.Choice(sorted(PLATFORMS)))
@click.option("--list", "slug", required=True, help="The newsletter list whose audience this is.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="The CSV file to write (hashed identifiers only).")
@click.option("--removals-since", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Write instead the hashes to remove: people who stopped qualifying since this day.")
@click.option("--by", "made_by", default=getpass.getuser, show_default="the system user",
              help="Who makes the export (kept with the record of it).")
def export(platform: str, slug: str, out: Path, removals_since, made_by: str) -> None:
    """Write the audience file and record who made it, when, for whom, how many and its checksum."""
    try:
        if removals_since is None:
            report = export_audience(platform, slug, out, made_by)
        else:
            report = export_removals(platform, slug, removals_since.replace(tzinfo=UTC), out, made_by)
    except AudienceError as error:
        raise click.ClickException(str(error)) from error
    kind = "to remove" if removals_since else "in the audience"
    click.echo(f"{report.count} people {kind}; {out} sha256 {report.checksum}")
