"""`flask sms`: deliver queued SMS once or as a worker, count them (`send` is added by the newsletter)."""

import time

import click
from flask import current_app
from flask.cli import AppGroup

from app.extensions import db
from app.sms.services import deliver_due, sms_counts

sms = AppGroup("sms", help="SMS campaigns and the SMS outbox.")


@sms.command("deliver")
@click.option("--loop", is_flag=True, help="Keep running as a worker.")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between passes with --loop.")
@click.option("--passes", default=0, help="With --loop, stop after this many passes (0: never).")
def deliver(loop: bool, interval: float, passes: int) -> None:
    """Deliver every due SMS; with --loop, keep doing so, whatever one pass meets."""
    done = 0
    while True:
        if not loop:
            click.echo(deliver_due().line())
            return
        one_pass_surviving()
        done += 1
        if passes and done >= passes:
            return
        time.sleep(interval)


def one_pass_surviving() -> None:
    """One pass of the worker; an error that stops the pass (database gone) is logged and the loop goes on."""
    try:
        report = deliver_due()
    except Exception as error:  # the worker outlives the pass
        db.session.rollback()
        current_app.logger.error("sms pass stopped: %s", type(error).__name__)
        click.echo(f"pass stopped: {type(error).__name__}", err=True)
        return
    if report.sent or report.retried or report.failed or report.cancelled:
        click.echo(report.line())


@sms.command("status")
def status() -> None:
    """Count the SMS by status."""
    for name, count in sorted(sms_counts().items()):
        click.echo(f"{name}: {count}")
