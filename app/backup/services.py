"""Backups: create (the dump streamed into age, signed) into BACKUP_DIR, list, prune after 90 days, verify and
restore. A restore works in a scratch database (loaded, migrated to this code's schema, the journal replayed,
retention applied, checked) that replaces the live one only when all of it went through."""

import hashlib
import os
import re
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

from flask import Flask, current_app
from sqlalchemy.engine import URL

from app.backup import crypto, dumps, journal
from app.database import utcnow
from app.extensions import db
from app.retention.register import BACKUPS
from app.retention.runner import run_rules

FACTORY = "kinv_backup_factory"
SUFFIXES = {"sqlite": ".sqlite.gz.age", "pgdump": ".pgdump.age"}
# Older releases also wrote `.pgdump.gz.age` and AES files (`.gz.aes`): listed and pruned, never restored here.
NAME = re.compile(r"^kinv-(\d{8}T\d{6}Z)\.(sqlite|pgdump)(\.gz)?\.(age|aes)$")
STAMP = "%Y%m%dT%H%M%SZ"


class BackupError(RuntimeError):
    """A backup that cannot be made, read or trusted; the message says why."""


@dataclass(frozen=True)
class Backup:
    """One backup file in BACKUP_DIR."""

    path: Path
    created_at: datetime
    engine: str
    legacy: bool = False  # made by an older release, in a format this one does not read

    @property
    def side_files(self) -> list[Path]:
        """The signature (or an older release's checksum) beside it."""
        return [self.path.with_name(self.path.name + suffix) for suffix in (".sig", ".sha256")]

    @property
    def size(self) -> int:
        """Bytes on disk."""
        return self.path.stat().st_size

    @property
    def signature_file(self) -> Path:
        """The server's Ed25519 signature beside it."""
        return self.path.with_name(self.path.name + ".sig")


def backup_dir() -> Path:
    """BACKUP_DIR, created private."""
    folder = Path(current_app.config["BACKUP_DIR"])
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def sha256_of(path: Path) -> str:
    """The file's SHA-256, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def private_file(path: Path):
    """A new file only this user can read or write, opened for writing."""
    return os.fdopen(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600), "wb")


def create() -> Backup:
    """Stream the live database into age, into BACKUP_DIR, and sign it: no clear copy ever touches the disk."""
    config = current_app.config
    crypto.recipients(config)  # both keys checked before anything is dumped
    crypto.signing_key(config)
    target = backup_dir() / f"kinv-{utcnow().strftime(STAMP)}{SUFFIXES[dumps.engine_name()]}"
    partial = target.with_name(target.name + ".part")
    try:
        with dumps.dump_stream() as dump, private_file(partial) as sealed:
            crypto.encrypt(dump, sealed, config)
        partial.rename(target)
    finally:
        partial.unlink(missing_ok=True)
    target.with_name(target.name + ".sig").write_text(crypto.sign(target.name, sha256_of(target), config))
    return parse(target)


def parse(path: Path) -> Backup:
    """A backup file's facts from its name."""
    match = NAME.match(path.name)
    try:
        created = datetime.strptime(match.group(1), STAMP).replace(tzinfo=UTC) if match else None
    except ValueError:
        created = None
    if created:
        engine = match.group(2)
        return Backup(path, created, engine, legacy=not path.name.endswith(SUFFIXES[engine]))
    raise BackupError(f"{path.name}: not a backup of this site (kinv-<time>.sqlite.gz.age or kinv-<time>.pgdump.age)")


def backups() -> list[Backup]:
    """Every backup in BACKUP_DIR, oldest first."""
    found = []
    for path in backup_dir().iterdir():
        try:
            found.append(parse(path))
        except BackupError:
            continue
    return sorted(found, key=lambda backup: backup.created_at)


def prune(now: datetime | None = None) -> int:
    """Delete backups older than 90 days (§1: backups within 3 more months), then journal entries no backup needs."""
    cutoff, removed = (now or utcnow()) - BACKUPS, 0
    for backup in backups():
        if backup.created_at < cutoff:
            backup.path.unlink()
            for side in backup.side_files:
                side.unlink(missing_ok=True)
            removed += 1
    left = backups()
    journal.forget_before(left[0].created_at if left else now or utcnow())
    return removed


def check(path: Path) -> Backup:
    """A backup signed by this server's key, for this engine: checked before a byte of it is decrypted."""
    backup = parse(path)
    if backup.legacy:
        raise BackupError(f"{path.name}: made by an older release in a format this one does not read; restore it "
                          "with that release, then deploy this one")
    if not backup.signature_file.exists():
        raise crypto.SignatureRefused(f"{path.name}: unsigned (no .sig file beside it); the file is not opened")
    crypto.check_signature(path.name, sha256_of(path), backup.signature_file.read_text(), current_app.config)
    if backup.engine != dumps.engine_name():
        raise BackupError(f"{path.name}: a {backup.engine} backup cannot go into this {dumps.engine_name()} database")
    return backup


def init_app(app: Flask, factory: Callable[..., Flask]) -> None:
    """Keep the app factory: a restore builds this same site on its scratch database."""
    app.extensions[FACTORY] = factory


def site_on(url: URL) -> Flask:
    """This site on another database, with every other setting of the running one (to migrate and replay there)."""
    settings = {**current_app.config, "SQLALCHEMY_DATABASE_URI": url.render_as_string(hide_password=False)}
    return current_app.extensions[FACTORY](SimpleNamespace(**settings, problems=list))


def schema_directory() -> str:
    """The migrations folder."""
    return current_app.extensions["migrate"].directory


def check_revision(scratch: URL, name: str) -> bool:
    """Refuse an empty dump or one from newer code; True when the backup's schema is older than this code's."""
    from alembic.script import ScriptDirectory  # alembic loads with the backup commands only (see app.schema)

    engine = dumps.engine_for(scratch)
    try:
        found, tables = dumps.revisions(engine), dumps.table_names(engine)
    finally:
        engine.dispose()
    if not found or not tables - {"alembic_version"}:
        raise BackupError(f"{name}: the dump is empty or incomplete (no schema revision)")
    script = ScriptDirectory(schema_directory())
    known = {revision.revision for revision in script.walk_revisions()}
    if found - known:
        raise BackupError(f"{name}: made by a newer version of the site (schema {', '.join(sorted(found - known))}, "
                          "unknown to this code); deploy that version, then restore")
    return found != set(script.get_heads())


@dataclass(frozen=True)
class Prepared:
    """A backup loaded into a scratch database and brought up to date there."""

    backup: Backup
    migrated: bool
    replayed: dict[str, int]
    retention_acted: int
    tables: dict[str, int]


def open_into(backup: Backup, scratch: URL) -> None:
    """Decrypt the backup straight into the scratch database's loader."""
    with backup.path.open("rb") as sealed:
        try:
            dumps.load(scratch, lambda target: crypto.decrypt(sealed, target, current_app.config))
        except OSError as error:
            raise BackupError(f"{backup.path.name}: the dump could not be loaded ({error})") from error


def bring_up_to_date(backup: Backup, migrated: bool) -> Prepared:
    """In the scratch site's context: migrate, replay the journal since the backup, apply retention, count rows."""
    from flask_migrate import upgrade  # alembic loads with the backup commands only (see app.schema)

    if migrated:
        upgrade(directory=schema_directory(), revision="heads")
    replayed = journal.replay(backup.created_at)
    db.session.commit()
    acted = sum(report.acted for report in run_rules())
    tables = dumps.counts(db.engine)
    missing = {table.name for table in db.metadata.sorted_tables} - set(tables)
    if missing:
        raise BackupError(f"{backup.path.name}: tables missing after restore: {', '.join(sorted(missing))}")
    return Prepared(backup, migrated, replayed, acted, tables)


@contextmanager
def prepared(path: Path):
    """A checked backup restored into a scratch database and brought up to date; yields (Prepared, scratch URL)."""
    backup = check(path)
    with dumps.scratch_database() as scratch:
        open_into(backup, scratch)
        migrated = check_revision(scratch, path.name)
        site = site_on(scratch)
        try:
            with site.app_context():
                result = bring_up_to_date(backup, migrated)
        finally:
            with site.app_context():
                db.session.remove()
                db.engine.dispose()
        yield result, scratch


def verify(path: Path) -> Prepared:
    """Signature, decryption, a full restore into a scratch database (then dropped); what it holds."""
    with prepared(path) as (result, _scratch):
        return result


@dataclass(frozen=True)
class RestoreReport:
    """What a restore did, and the consent proofs it could not bring back."""

    prepared: Prepared
    hours_lost: float


def restore(path: Path) -> RestoreReport:
    """Replace the database with a backup brought up to date: nothing is replaced unless every step went through."""
    with prepared(path) as (result, scratch):
        dumps.swap_in(scratch)
    age = utcnow() - result.backup.created_at
    return RestoreReport(result, round(age.total_seconds() / 3600, 1))
