"""`flask outbox`: deliver queued mail once or as a worker. `flask mail`: DKIM keys, bounces and complaints."""

import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app import config as settings
from app.extensions import db
from app.mail.bounces import maildir_reports, mbox_reports, process_reports
from app.mail.services import deliver_due, outbox_counts
from app.mail.signing import SigningError, dns_value, generate_key, zone_record

outbox = AppGroup("outbox", help="Deliver the mail queued in the outbox.")
mail = AppGroup("mail", help="Mail authentication and bounces.")


@outbox.command("send")
@click.option("--loop", is_flag=True, help="Keep running as a worker.")
@click.option("--interval", default=5.0, show_default=True,
              help="With --loop, seconds to wait when nothing was due (a pass that sent mail is followed at once).")
@click.option("--passes", default=0, help="With --loop, stop after this many passes (0: never).")
def send(loop: bool, interval: float, passes: int) -> None:
    """Deliver every due message; with --loop, keep doing so, whatever one pass meets."""
    if not loop:
        echo_report(deliver_due(), always=True)
        return
    done = 0
    while True:
        busy = one_pass_surviving()
        done += 1
        if passes and done >= passes:
            return
        if not busy:
            time.sleep(interval)


def one_pass_surviving() -> bool:
    """One pass of the worker, and whether it took any message; an error that stops the pass (database gone,
    signing key unreadable) is logged, and counts as an idle pass (the next one waits)."""
    try:
        report = deliver_due()
        echo_report(report)
        return report.tried > 0
    except Exception as error:  # the worker outlives the pass: the next one may find the database back
        db.session.rollback()
        current_app.logger.error("outbox pass stopped: %s", type(error).__name__)
        detail = f": {error}" if isinstance(error, SigningError) else ""  # other texts may quote data
        click.echo(f"pass stopped: {type(error).__name__}{detail}", err=True)
        return False


def echo_report(report, always: bool = False) -> None:
    """Print what a pass did (with --loop only when it did something)."""
    if always or report.sent or report.retried or report.failed:
        click.echo(f"sent {report.sent}, to retry {report.retried}, failed {report.failed}")


@outbox.command("status")
def status() -> None:
    """Count the messages by status."""
    for name, count in sorted(outbox_counts().items()):
        click.echo(f"{name}: {count}")


@mail.command("dkim-keygen")
@click.option("--selector", required=True, help="The DKIM selector, e.g. k2026 (one key per selector).")
@click.option("--domain", default=None, help="The signing domain (default: DKIM_DOMAIN).")
@click.option("--algorithm", type=click.Choice(["rsa", "ed25519"]), default="rsa", show_default=True,
              help="rsa: the signature every receiver checks; ed25519: an optional second one (RFC 8463).")
def dkim_keygen(selector: str, domain: str | None, algorithm: str) -> None:
    """Write a new key (2048-bit RSA, or ed25519) into instance/ and print the DNS TXT record to publish."""
    domain = domain or current_app.config["DKIM_DOMAIN"]
    if not domain:
        raise click.UsageError("give --domain or set DKIM_DOMAIN")
    path = settings.INSTANCE_DIR / f"dkim-{selector}.pem"
    try:
        pem = generate_key(path, algorithm)
    except FileExistsError as error:
        raise click.ClickException(f"{path} exists: choose a new selector to rotate keys") from error
    click.echo(f"Private key written to {path} (mode 600). Set:")
    click.echo(f"  {key_settings(algorithm, domain, selector, path)}")
    click.echo("Publish this DNS record, then wait for it to be visible before signing with it:")
    click.echo(zone_record(selector, domain, dns_value(pem)))


def key_settings(algorithm: str, domain: str, selector: str, path: Path) -> str:
    """The settings that sign with a new key: the RSA key's, or the second (ed25519) key's beside them."""
    if algorithm == "ed25519":
        return f"DKIM_ED25519_SELECTOR={selector} DKIM_ED25519_PRIVATE_KEY_FILE={path} (besides the RSA key's)"
    return f"DKIM_SIGNING=app DKIM_DOMAIN={domain} DKIM_SELECTOR={selector} DKIM_PRIVATE_KEY_FILE={path}"


@mail.command("bounces")
@click.option("--maildir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="A Maildir receiving MAIL_BOUNCE_DOMAIN's mail: unread messages are read, then marked seen.")
@click.option("--mbox", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="An mbox file.")
def bounces(maildir: Path | None, mbox: Path | None) -> None:
    """Read bounces (RFC 3464 DSNs, other formats) and complaints (ARF); put addresses on the opt-out list."""
    if (maildir is None) == (mbox is None):
        raise click.UsageError("give one of --maildir DIR or --mbox FILE")
    click.echo(process_reports(maildir_reports(maildir) if maildir else mbox_reports(mbox)).line())
