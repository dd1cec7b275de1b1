"""`flask backup create|list|prune|verify FILE|restore FILE|keygen`."""

from datetime import UTC, datetime
from pathlib import Path

import click
from flask.cli import AppGroup

from app.backup import crypto, services
from app.backup.dumps import DumpError
from app.backup.journal import ReplayFailed, replay
from app.extensions import db

backup = AppGroup("backup", help="Encrypted, signed backups of the database, and their restore.")
FAILURES = (services.BackupError, crypto.BackupKeyError, crypto.DecryptionFailed, crypto.SignatureRefused,
            DumpError, ReplayFailed)
backup_file = click.Path(exists=True, dir_okay=False, path_type=Path)


@backup.command("create")
def create() -> None:
    """Stream the database into age in BACKUP_DIR and sign it with the server's key."""
    try:
        made = services.create()
    except FAILURES as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"{made.path} ({made.size} bytes, signed)")


@backup.command("list")
def list_backups() -> None:
    """Every backup in BACKUP_DIR, oldest first."""
    for item in services.backups():
        signature = "older format" if item.legacy else "signed" if item.signature_file.exists() else "UNSIGNED"
        click.echo(f"{item.path.name}  {item.created_at:%Y-%m-%d %H:%M} UTC  {item.size} bytes  {signature}")


@backup.command("prune")
def prune() -> None:
    """Delete backups older than 90 days (and journal entries no backup needs any more)."""
    click.echo(f"{services.prune()} backup(s) older than 90 days deleted.")


@backup.command("verify")
@click.argument("path", type=backup_file)
def verify(path: Path) -> None:
    """Check the signature, then restore into a scratch database (migrated, journal replayed) and count rows."""
    try:
        found = services.verify(path)
    except FAILURES as error:
        raise click.ClickException(str(error)) from error
    for table, rows in sorted(found.tables.items()):
        click.echo(f"{table}: {rows}")
    migrated = ", migrated to this code's schema" if found.migrated else ""
    click.echo(f"OK: {len(found.tables)} tables restored from {path.name}{migrated}")


@backup.command("restore")
@click.argument("path", type=backup_file)
@click.confirmation_option(prompt="Replace the whole database with this backup?")
def restore(path: Path) -> None:
    """Replace the database with a backup brought up to date: migrated, journal replayed, retention applied."""
    try:
        report = services.restore(path)
    except FAILURES as error:
        raise click.ClickException(f"{error}\nThe database was not replaced.") from error
    done = report.prepared
    replayed = ", ".join(f"{kind} {count}" for kind, count in sorted(done.replayed.items())) or "nothing"
    click.echo(f"restored {path.name}{' (migrated)' if done.migrated else ''}; replayed from the journal: "
               f"{replayed}; retention acted on {done.retention_acted} row(s)")
    click.echo(f"Lost with this restore: the consent proofs and other records of the last {report.hours_lost} "
               "hour(s) (the backup's age); opt-outs, withdrawals and erasures of that time were replayed.")


@backup.command("replay")
@click.option("--since", required=True, type=click.DateTime(["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]),
              help="UTC time the database was recovered to (point-in-time recovery).")
def replay_journal(since: datetime) -> None:
    """Replay the journal from a moment on, into the live database (after a point-in-time recovery)."""
    try:
        done = replay(since.replace(tzinfo=UTC))
    except ReplayFailed as error:
        db.session.rollback()
        raise click.ClickException(f"{error}\nNothing was changed.") from error
    db.session.commit()
    click.echo("replayed from the journal: " + (", ".join(f"{k} {n}" for k, n in sorted(done.items())) or "nothing"))


@backup.command("keygen")
def keygen() -> None:
    """Print a new age key pair and Ed25519 signing key, and where each one belongs."""
    keys = crypto.new_keys()
    click.echo("# 1. On the server, in the file named by BACKUP_AGE_IDENTITY_FILE (mode 0600), and one copy offline\n"
               "#    (a safe, a password manager): without it no backup can be read.")
    click.echo(keys["age_identity"])
    click.echo("# 2. In the settings: BACKUP_AGE_RECIPIENTS (public; every host that makes backups).")
    click.echo(f"BACKUP_AGE_RECIPIENTS={keys['age_recipient']}")
    click.echo("# 3. On the server only, in the file named by BACKUP_SIGNING_KEY_FILE (mode 0600): it signs backups.")
    click.echo(keys["signing_key"].rstrip())
    click.echo("# 4. In the settings of every host that verifies or restores (public), and with the offline copy.")
    click.echo(f"BACKUP_SIGNING_PUBLIC_KEY={keys['signing_public_key']}")
