"""`flask consent`: export the proof, daily statistics, the retention purge."""

import json
from datetime import UTC, datetime

import click
from flask.cli import AppGroup

from app.consent.reports import daily_stats, export_text, period_total, purge_expired
from app.extensions import db
from app.progress import reported

consent = AppGroup("consent", help="Cookie consent proof: export, statistics, purge.")
since_option = click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]),
                            help="Only records from this day on (YYYY-MM-DD, UTC).")


def as_utc(value):
    """A naive date from the command line, read as UTC."""
    return value.replace(tzinfo=UTC) if value else None


@consent.command("export")
@since_option
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.option("--output", "-o", type=click.File("w", encoding="utf-8"), default="-",
              help="File to write (default: standard output).")
def export(since, fmt: str, output) -> None:
    """Write every consent record (the proof of each choice) as CSV or JSON."""
    with reported("exporting consent records"):
        text = export_text(as_utc(since), fmt)
    output.write(text if text.endswith("\n") else text + "\n")


@consent.command("stats")
@since_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def stats(since, fmt: str) -> None:
    """Records per day and the accept/refuse rate of each category, with the period's total."""
    days = daily_stats(as_utc(since))
    if fmt == "json":
        click.echo(json.dumps(days, indent=1))
        return
    if not days:
        click.echo("No consent records.")
        return
    keys = list(days[0]["rates"])
    click.echo("day         records  choices  gpc  " + "  ".join(f"{key} accept/refuse" for key in keys))
    for day in [*days, period_total(days)]:
        cells = "  ".join(f"{day['rates'][k]['accept']:.0%}/{day['rates'][k]['refuse']:.0%}".rjust(len(k) + 14)
                          for k in keys)
        click.echo(f"{day['day']:<10}  {day['records']:>7}  {day['choices']:>7}  {day['gpc_signals']:>3}  {cells}")


@consent.command("purge")
def purge() -> None:
    """Delete consent records older than the 5-year retention (the register's rule `preuves_consentement`)."""
    removed = purge_expired(datetime.now(UTC)).acted
    db.session.commit()
    click.echo(f"{removed} consent record(s) older than 5 years deleted.")
