"""The database as a stream and back: SQLite's online backup into memory, or pg_dump / pg_restore through pipes; a
scratch database beside the live one for restores, swapped in only once it is complete."""

import io
import os
import shutil
import sqlite3
import subprocess
import uuid
import zlib
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from app.extensions import db

SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")
BLOCK = 1024 * 1024
GZIP = 31  # zlib's window bits for the gzip format


class Gzipping(io.RawIOBase):
    """A file read gzip-compressed, a block at a time (what age reads from when it encrypts)."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw, self.packer, self.ready = raw, zlib.compressobj(6, zlib.DEFLATED, GZIP), b""

    def readable(self) -> bool:
        """It is read."""
        return True

    def readinto(self, target) -> int:
        """The next compressed bytes; 0 at the end."""
        while not self.ready and self.packer is not None:
            block = self.raw.read(BLOCK)
            self.ready = self.packer.compress(block) if block else self.packer.flush()
            self.packer = self.packer if block else None
        size = min(len(target), len(self.ready))
        target[:size], self.ready = self.ready[:size], self.ready[size:]
        return size


class Gunzipping(io.RawIOBase):
    """A file written gzip-decompressed (what age writes into when it decrypts)."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw, self.unpacker = raw, zlib.decompressobj(GZIP)

    def writable(self) -> bool:
        """It is written."""
        return True

    def write(self, data) -> int:
        """Decompress and write; a damaged stream raises DumpError."""
        try:
            self.raw.write(self.unpacker.decompress(data))
        except zlib.error as error:
            raise DumpError("the dump is not a gzip stream") from error
        return len(data)

    def complete(self) -> bool:
        """Whether the whole gzip stream arrived."""
        return self.unpacker.eof


class DumpError(RuntimeError):
    """pg_dump or pg_restore failed, or is missing."""


def engine_name() -> str:
    """`sqlite` or `pgdump`: the kind of dump this database makes."""
    return "sqlite" if db.engine.dialect.name == "sqlite" else "pgdump"


def pg_env(url: URL) -> dict[str, str]:
    """libpq's environment for a database URL (the password never on a command line)."""
    env = {**os.environ, "PGHOST": url.host or "127.0.0.1", "PGPORT": str(url.port or 5432),
           "PGDATABASE": url.database or ""}
    if url.username:
        env["PGUSER"] = url.username
    if url.password:
        env["PGPASSWORD"] = url.password
    return env


@contextmanager
def pg_tool(name: str, *args: str, url: URL, **pipes) -> Iterator[subprocess.Popen]:
    """Run pg_dump or pg_restore with pipes; its error text is not repeated (it may quote data), only its exit code."""
    if shutil.which(name) is None:
        raise DumpError(f"{name} not found: install the PostgreSQL client (postgresql-client)")
    process = subprocess.Popen([name, *args], env=pg_env(url), stderr=subprocess.DEVNULL, **pipes)
    try:
        yield process
    except BaseException:
        process.kill()
        raise
    finally:
        for pipe in (process.stdin, process.stdout):
            if pipe:
                pipe.close()
        process.wait()
    if process.returncode != 0:
        raise DumpError(f"{name} exited with {process.returncode}")


def private_path(beside: str, purpose: str) -> Path:
    """A new, empty file only this user can read, in the live database's own folder (as private as the database)."""
    path = Path(beside).with_name(f".{Path(beside).name}.{purpose}-{uuid.uuid4().hex[:12]}")
    os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    return path


@contextmanager
def dump_stream() -> Iterator[BinaryIO]:
    """The live database as a readable stream: SQLite's online backup, gzipped as it is read, or pg_dump's custom
    format. SQLite's backup needs a database to write to: a private file beside the live one, unlinked as soon as
    it is opened, so its name is gone before the first byte is encrypted."""
    if engine_name() == "sqlite":
        live = db.engine.url.database
        copy = private_path(live, "backup")
        try:
            with closing(sqlite3.connect(live)) as source, closing(sqlite3.connect(copy)) as target:
                source.backup(target)
            handle = copy.open("rb")
        finally:
            copy.unlink(missing_ok=True)
        with handle:
            yield Gzipping(handle)
        return
    with pg_tool("pg_dump", "--format=custom", "--no-owner", url=db.engine.url, stdout=subprocess.PIPE) as dumper:
        yield dumper.stdout


def load(url: URL, fill: Callable[[BinaryIO], None]) -> None:
    """Fill an empty scratch database with a dump that `fill` writes into the stream it is given."""
    if url.get_backend_name() == "sqlite":
        with open(url.database, "wb") as target:
            unpacked = Gunzipping(target)
            fill(unpacked)
        if not unpacked.complete():
            raise DumpError("the dump is empty or cut (an incomplete gzip stream)")
        return
    with pg_tool("pg_restore", "--no-owner", "--exit-on-error", f"--dbname={url.database}", url=url,
                 stdin=subprocess.PIPE) as restorer:
        fill(restorer.stdin)


@contextmanager
def scratch_database() -> Iterator[URL]:
    """An empty database beside the live one, gone at the end unless `swap_in` took it: a private file in the live
    file's folder (so a rename can replace the live file), or a new PostgreSQL database."""
    live = db.engine.url
    if live.get_backend_name() == "sqlite":
        path = private_path(live.database, "restore")
        try:
            yield live.set(database=str(path))
        finally:
            for suffix in ("", *SQLITE_SIDE_FILES):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    name = f"kinv_restore_{uuid.uuid4().hex[:12]}"
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield live.set(database=name)
    finally:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))


def keep_owner(live: Path, scratch: Path) -> None:
    """The new file gets the old one's mode and owner (the site's user): as another user this fails, and nothing is
    replaced."""
    found = live.stat()
    scratch.chmod(found.st_mode & 0o777)
    if (found.st_uid, found.st_gid) != (scratch.stat().st_uid, scratch.stat().st_gid):
        os.chown(scratch, found.st_uid, found.st_gid)


def swap_in(scratch: URL) -> None:
    """Replace the live database with the finished scratch one, all or nothing: an atomic rename of the file on
    SQLite, one pg_restore transaction on PostgreSQL. Every connection of this process is closed first."""
    live = db.engine.url
    db.session.remove()
    db.engine.dispose()
    if live.get_backend_name() == "sqlite":
        with closing(sqlite3.connect(live.database)) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the old file's log must not outlive it
        keep_owner(Path(live.database), Path(scratch.database))
        os.replace(scratch.database, live.database)
        return
    with pg_tool("pg_dump", "--format=custom", "--no-owner", url=scratch, stdout=subprocess.PIPE) as dumper, \
            pg_tool("pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error",
                    f"--dbname={live.database}", url=live, stdin=dumper.stdout):
        dumper.stdout.close()  # pg_restore holds the pipe; pg_dump sees it closed if pg_restore stops


def engine_for(url: URL | str) -> sa.Engine:
    """A short-lived engine on another database (closed by the caller)."""
    return sa.create_engine(make_url(url) if isinstance(url, str) else url, poolclass=sa.pool.NullPool)


def table_names(engine: sa.Engine) -> set[str]:
    """The tables of a database."""
    return set(sa.inspect(engine).get_table_names())


def counts(engine: sa.Engine) -> dict[str, int]:
    """Rows per table of a database."""
    names = table_names(engine)
    with engine.connect() as connection:
        return {name: connection.scalar(sa.select(sa.func.count()).select_from(sa.table(name))) for name in names}


def revisions(engine: sa.Engine) -> set[str]:
    """The schema revisions a database records (none for an empty database)."""
    if "alembic_version" not in table_names(engine):
        return set()
    with engine.connect() as connection:
        return set(connection.scalars(sa.text("SELECT version_num FROM alembic_version")))
