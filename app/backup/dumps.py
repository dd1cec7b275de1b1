"""The database copied to a file and back: SQLite's online backup API, or pg_dump -Fc / pg_restore on PostgreSQL."""

import os
import shutil
import sqlite3
import subprocess
import uuid
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL

from app.extensions import db


class DumpError(RuntimeError):
    """pg_dump or pg_restore failed, or is missing."""


def engine_name() -> str:
    """`sqlite` or `postgresql`: the file suffix of a dump."""
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


def pg_tool(name: str, *args: str, url: URL) -> None:
    """Run pg_dump or pg_restore; its error text is not repeated (it may quote data), only its exit code."""
    if shutil.which(name) is None:
        raise DumpError(f"{name} not found: install the PostgreSQL client (postgresql-client)")
    result = subprocess.run([name, *args], env=pg_env(url), capture_output=True, check=False)
    if result.returncode != 0:
        raise DumpError(f"{name} exited with {result.returncode}")


def dump(target: Path) -> None:
    """Write a consistent copy of the live database to `target`."""
    if engine_name() == "sqlite":
        with sqlite3.connect(db.engine.url.database) as source, sqlite3.connect(target) as copy:
            source.backup(copy)
        return
    pg_tool("pg_dump", "--format=custom", "--no-owner", f"--file={target}", url=db.engine.url)


def counts(engine: sa.Engine) -> dict[str, int]:
    """Rows per table of a database."""
    names = sa.inspect(engine).get_table_names()
    with engine.connect() as connection:
        return {name: connection.scalar(sa.select(sa.func.count()).select_from(sa.table(name))) for name in names}


def restored_counts(dump_file: Path) -> dict[str, int]:
    """Restore a dump into a temporary database, count rows per table, drop it."""
    if engine_name() == "sqlite":
        engine = sa.create_engine(f"sqlite:///{dump_file}")
        try:
            return counts(engine)
        finally:
            engine.dispose()
    name = f"kinv_verify_{uuid.uuid4().hex[:12]}"
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    scratch = sa.create_engine(db.engine.url.set(database=name))
    try:
        pg_tool("pg_restore", "--no-owner", f"--dbname={name}", str(dump_file), url=db.engine.url.set(database=name))
        return counts(scratch)
    finally:
        scratch.dispose()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))


def load(dump_file: Path) -> None:
    """Replace the live database with a dump (every connection of this process is closed first)."""
    db.session.remove()
    db.engine.dispose()
    if engine_name() == "sqlite":
        with sqlite3.connect(dump_file) as source, sqlite3.connect(db.engine.url.database) as live:
            source.backup(live)
        return
    pg_tool("pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
            f"--dbname={db.engine.url.database}", str(dump_file), url=db.engine.url)


