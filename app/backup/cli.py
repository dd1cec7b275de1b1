"""`flask backup create|list|prune|verify FILE|restore FILE|keygen`."""

from pathlib import Path

import click
from flask.cli import AppGroup

from app.backup import crypto, services
from app.backup.dumps import DumpError

backup = AppGroup("backup", help="Encrypted backups of the database, and their restore.")
FAILURES = (services.BackupError, crypto.BackupKeyError, crypto.DecryptionFailed, DumpError)
backup_file = click.Path(exists=True, dir_okay=False, path_type=Path)


@backup.command("create")
def create() -> None:
    """Dump, compress, encrypt and checksum the database into BACKUP_DIR."""
    try:
        made = services.create()
    except FAILURES as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"{made.path} ({made.size} bytes, {made.encryption})")


@backup.command("list")
def list_backups() -> None:
    """Every backup in BACKUP_DIR, oldest first."""
    for item in services.backups():
        checksum = "checksum file" if item.checksum_file.exists() else "NO checksum file"
        click.echo(f"{item.path.name}  {item.created_at:%Y-%m-%d %H:%M} UTC  {item.size} bytes  {checksum}")


@backup.command("prune")
def prune() -> None:
    """Delete backups older than 90 days (and erasure-journal entries no backup needs any more)."""
    click.echo(f"{services.prune()} backup(s) older than 90 days deleted.")


@backup.command("verify")
@click.argument("path", type=backup_file)
def verify(path: Path) -> None:
    """Check the checksum, decrypt, restore into a temporary database and count rows per table."""
    try:
        found = services.verify(path)
    except FAILURES as error:
        raise click.ClickException(str(error)) from error
    for table, rows in sorted(found.items()):
        click.echo(f"{table}: {rows}")
    click.echo(f"OK: {len(found)} tables restored from {path.name}")


@backup.command("restore")
@click.argument("path", type=backup_file)
@click.confirmation_option(prompt="Replace the whole database with this backup?")
def restore(path: Path) -> None:
    """Replace the database with a backup, replay the erasure journal, apply retention."""
    try:
        report = services.restore(path)
    except FAILURES as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"restored {path.name}; erased again from the journal: {report.replayed}; "
               f"retention acted on {report.retention_acted} row(s)")


@backup.command("keygen")
def keygen() -> None:
    """Print a new BACKUP_KEY (32 random bytes, URL-safe base64): keep it away from the backups."""
    click.echo(crypto.new_aes_key())
