"""`flask outbox`: deliver queued mail once or as a worker."""

import time

import click
from flask.cli import AppGroup

from app.mail.services import deliver_due, outbox_counts

outbox = AppGroup("outbox", help="Deliver the mail queued in the outbox.")


@outbox.command("send")
@click.option("--loop", is_flag=True, help="Keep running as a worker.")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between passes with --loop.")
def send(loop: bool, interval: float) -> None:
    """Deliver every due message; with --loop, keep doing so."""
    while True:
        report = deliver_due()
        if report.sent or report.retried or report.failed or not loop:
            click.echo(f"sent {report.sent}, to retry {report.retried}, failed {report.failed}")
        if not loop:
            return
        time.sleep(interval)


@outbox.command("status")
def status() -> None:
    """Count the messages by status."""
    for name, count in sorted(outbox_counts().items()):
        click.echo(f"{name}: {count}")
