"""What the database benchmarks share: a development environment of their own, and each database to measure —
a scratch SQLite file, and a dedicated schema in the PostgreSQL database of BENCH_POSTGRESQL_URL (default the
`test` database) dropped afterwards."""

import os
import secrets
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("INSTANCE_PATH", tempfile.mkdtemp(prefix="kinv-bench-instance-"))
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(48))
os.environ.setdefault("HASH_KEY", secrets.token_urlsafe(48))

import sqlalchemy as sa  # noqa: E402

from app.config import psycopg_url  # noqa: E402

Hook = Callable[[sa.Engine], None] | None


@contextmanager
def sqlite_database() -> Iterator[tuple[str, Hook, Hook]]:
    """A SQLite file in a temporary folder: (URL, no set-up, no tear-down)."""
    with tempfile.TemporaryDirectory(prefix="kinv-bench-") as folder:
        yield f"sqlite:///{Path(folder) / 'bench.sqlite'}", None, None


@contextmanager
def postgresql_database(name: str) -> Iterator[tuple[str, Hook, Hook]]:
    """A schema of its own in the benchmark's PostgreSQL database: (URL, create it, drop it)."""
    schema = f"bench_{name}_{os.getpid()}"

    def run_sql(statement: str) -> Hook:
        def hook(engine: sa.Engine) -> None:
            with engine.begin() as connection:
                connection.execute(sa.text(statement))
        return hook

    base = psycopg_url(os.environ.get("BENCH_POSTGRESQL_URL", "postgresql://127.0.0.1:5432/test"))
    yield (f"{base}?options=-csearch_path%3D{schema}", run_sql(f"CREATE SCHEMA {schema}"),
           run_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))


def each_database(name: str, only: str | None) -> Iterator[tuple[str, str, Hook, Hook]]:
    """(label, URL, set-up, tear-down) for SQLite and PostgreSQL, or the one database asked for."""
    if only in (None, "sqlite"):
        with sqlite_database() as database:
            yield ("SQLite", *database)
    if only in (None, "postgresql"):
        with postgresql_database(name) as database:
            yield ("PostgreSQL", *database)


def run_on_each_database(name: str, only: str | None, run: Callable[[str, str], bool]) -> bool:
    """`run(name, url)` on each scratch database (set up before, released after, whatever happens); all passed."""
    ok = True
    for label, url, setup, teardown in each_database(name, only):
        engine = sa.create_engine(url)
        try:
            if setup:
                setup(engine)
            ok = run(label, url) and ok
        finally:
            if teardown:
                teardown(engine)
            engine.dispose()
    return ok


def migrate_scratch(setup: Hook) -> None:
    """In the app's context: create the scratch schema (PostgreSQL) and bring it to the newest migration."""
    from flask_migrate import upgrade

    from app.extensions import db

    if setup:
        setup(db.engine)
    upgrade(directory=str(ROOT / "migrations"), revision="heads")


def release_scratch(teardown: Hook) -> None:
    """In the app's context: end the session, drop the scratch schema (PostgreSQL), close every connection."""
    from app.extensions import db

    db.session.remove()
    if teardown:
        teardown(db.engine)
    db.engine.dispose()
