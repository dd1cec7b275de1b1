"""`flask outbox`: deliver queued mail once or as a worker. `flask mail`: DKIM keys."""

import time

import click
from flask import current_app
from flask.cli import AppGroup

from app import config as settings
from app.mail.services import deliver_due, outbox_counts
from app.mail.signing import dns_value, generate_key, zone_record

outbox = AppGroup("outbox", help="Deliver the mail queued in the outbox.")
mail = AppGroup("mail", help="Mail authentication and bounces.")


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


@mail.command("dkim-keygen")
@click.option("--selector", required=True, help="The DKIM selector, e.g. k2026 (one key per selector).")
@click.option("--domain", default=None, help="The signing domain (default: DKIM_DOMAIN).")
def dkim_keygen(selector: str, domain: str | None) -> None:
    """Write a new 2048-bit key into instance/ and print the DNS TXT record to publish."""
    domain = domain or current_app.config["DKIM_DOMAIN"]
    if not domain:
        raise click.UsageError("give --domain or set DKIM_DOMAIN")
    path = settings.INSTANCE_DIR / f"dkim-{selector}.pem"
    try:
        pem = generate_key(path)
    except FileExistsError as error:
        raise click.ClickException(f"{path} exists: choose a new selector to rotate keys") from error
    click.echo(f"Private key written to {path} (mode 600). Set:")
    click.echo(f"  DKIM_SIGNING=app DKIM_DOMAIN={domain} DKIM_SELECTOR={selector} DKIM_PRIVATE_KEY_FILE={path}")
    click.echo("Publish this DNS record, then wait for it to be visible before signing with it:")
    click.echo(zone_record(selector, domain, dns_value(pem)))
