"""`flask retention`: apply the register (`run`), or print it (`rules`)."""

from datetime import UTC, datetime

import click
from flask.cli import AppGroup
from flask_babel import force_locale

from app.retention.register import all_rules
from app.retention.runner import run_rules

retention = AppGroup("retention", help="Apply the retention register.")


def parse_now(value: str | None) -> datetime | None:
    """An ISO date or date-time (UTC when no offset is given)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as error:
        raise click.BadParameter("an ISO date such as 2031-01-15 or 2031-01-15T03:00:00+01:00",
                                 param_hint="--now") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@retention.command("run")
@click.option("--dry-run", is_flag=True, help="Report what each rule would do, change nothing.")
@click.option("--now", "now_text", metavar="ISO-DATE", help="Act as if it were this date (tests, catching up).")
@click.option("--rule", "only", multiple=True, help="Only this rule (repeatable); default: every rule.")
def run(dry_run: bool, now_text: str | None, only: tuple[str, ...]) -> None:
    """Apply each rule of the register: one transaction per rule, a line per rule, an audit row per rule."""
    try:
        reports = run_rules(parse_now(now_text), dry_run=dry_run, only=only)
    except KeyError as error:
        raise click.BadParameter(str(error.args[0]), param_hint="--rule") from error
    for report in reports:
        click.echo(("[dry run] " if dry_run else "") + report.line())
    if any(report.error for report in reports):
        raise SystemExit(1)


@retention.command("rules")
def rules() -> None:
    """Print the register: each rule, its period, what it counts from and the action."""
    with force_locale("fr"):
        for rule in all_rules():
            click.echo(f"{rule.key}: {rule.period_label} from {rule.counts_from} -> {rule.action} "
                           f"({', '.join(rule.tables) or 'files'})")
