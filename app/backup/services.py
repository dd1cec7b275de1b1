"""Backups: create (dump, gzip, encrypt, checksum) into BACKUP_DIR, list, prune after 90 days, verify by restoring
into a temporary database, restore (then the erasure journal is replayed and retention applied)."""

import gzip
import hashlib
import re
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app

from app.backup import crypto, dumps, journal
from app.database import utcnow
from app.extensions import db
from app.retention.register import BACKUPS
from app.retention.runner import run_rules

NAME = re.compile(r"^kinv-(\d{8}T\d{6}Z)\.(sqlite|pgdump)\.gz\.(age|aes)$")


class BackupError(RuntimeError):
    """A backup that cannot be made, read or trusted; the message says why."""


@dataclass(frozen=True)
class Backup:
    """One backup file in BACKUP_DIR."""

    path: Path
    created_at: datetime
    engine: str
    encryption: str

    @property
    def size(self) -> int:
        """Bytes on disk."""
        return self.path.stat().st_size

    @property
    def checksum_file(self) -> Path:
        """The `sha256sum`-format file beside it."""
        return self.path.with_name(self.path.name + ".sha256")


def backup_dir() -> Path:
    """BACKUP_DIR, created private."""
    folder = Path(current_app.config["BACKUP_DIR"])
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


@contextmanager
def private_dir():
    """A temporary directory only this user can read: the clear dump lives there for seconds, then goes."""
    folder = Path(tempfile.mkdtemp(prefix="kinv-backup-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def sha256_of(path: Path) -> str:
    """The file's SHA-256, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def create() -> Backup:
    """Dump the live database, compress, encrypt into BACKUP_DIR, write its checksum beside it."""
    config, stamp = current_app.config, utcnow().strftime("%Y%m%dT%H%M%SZ")
    method = crypto.method(config)
    target = backup_dir() / f"kinv-{stamp}.{dumps.engine_name()}.gz.{method}"
    with private_dir() as work:
        plain = work / "dump"
        dumps.dump(plain)
        with plain.open("rb") as source, gzip.open(work / "dump.gz", "wb", compresslevel=6) as packed:
            shutil.copyfileobj(source, packed, 1024 * 1024)
        plain.unlink()
        partial = target.with_name(target.name + ".part")
        with (work / "dump.gz").open("rb") as source, partial.open("wb") as sealed:
            crypto.encrypt(source, sealed, config)
        partial.chmod(0o600)
        partial.rename(target)
    target.with_name(target.name + ".sha256").write_text(f"{sha256_of(target)}  {target.name}\n")
    return parse(target)


def parse(path: Path) -> Backup:
    """A backup file's facts from its name."""
    match = NAME.match(path.name)
    if not match:
        raise BackupError(f"{path.name}: not a backup of this site (kinv-<time>.<engine>.gz.<age|aes>)")
    created = datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return Backup(path, created, match.group(2), match.group(3))


def backups() -> list[Backup]:
    """Every backup in BACKUP_DIR, oldest first."""
    return sorted((parse(p) for p in backup_dir().iterdir() if NAME.match(p.name)), key=lambda b: b.created_at)


def prune(now: datetime | None = None) -> int:
    """Delete backups older than 90 days (§1: backups within 3 more months), then journal entries no backup needs."""
    cutoff, removed = (now or utcnow()) - BACKUPS, 0
    for backup in backups():
        if backup.created_at < cutoff:
            backup.path.unlink()
            backup.checksum_file.unlink(missing_ok=True)
            removed += 1
    left = backups()
    journal.forget_before(left[0].created_at if left else now or utcnow())
    return removed


def check(path: Path) -> Backup:
    """A backup whose checksum matches its `.sha256` file."""
    backup = parse(path)
    if not backup.checksum_file.exists():
        raise BackupError(f"{path.name}: no .sha256 file beside it")
    expected = backup.checksum_file.read_text().split()[0]
    if sha256_of(path) != expected:
        raise BackupError(f"{path.name}: checksum mismatch, the file is damaged")
    return backup


@contextmanager
def opened(path: Path):
    """The clear dump of a checked backup, in a private temporary directory."""
    backup = check(path)
    if backup.engine != dumps.engine_name():
        raise BackupError(f"{path.name}: a {backup.engine} backup cannot go into this {dumps.engine_name()} database")
    with private_dir() as work:
        packed, plain = work / "dump.gz", work / "dump"
        with path.open("rb") as sealed, packed.open("wb") as target:
            crypto.decrypt(sealed, target, backup.encryption, current_app.config)
        with gzip.open(packed, "rb") as source, plain.open("wb") as target:
            shutil.copyfileobj(source, target, 1024 * 1024)
        packed.unlink()
        yield plain


def verify(path: Path) -> dict[str, int]:
    """Checksum, decrypt, restore into a temporary database; rows per table. Raises BackupError when incomplete."""
    with opened(path) as plain:
        found = dumps.restored_counts(plain)
    missing = {table.name for table in db.metadata.sorted_tables} - set(found)
    if missing:
        raise BackupError(f"{path.name}: tables missing after restore: {', '.join(sorted(missing))}")
    return found


@dataclass(frozen=True)
class RestoreReport:
    """What a restore did after loading the dump."""

    replayed: int
    retention_acted: int


def restore(path: Path) -> RestoreReport:
    """Replace the database with a backup, erase again everyone the journal names, apply retention as of now."""
    with opened(path) as plain:
        dumps.load(plain)
    replayed = journal.replay()
    db.session.commit()
    acted = sum(report.acted for report in run_rules())
    return RestoreReport(replayed, acted)
