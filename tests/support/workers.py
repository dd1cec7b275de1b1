"""What each pytest-xdist worker keeps to itself: its PostgreSQL databases, its Redis database, its templates."""

import os
from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa
from jinja2 import BytecodeCache

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1", … under xdist; "" in a plain run
WORKER_NUMBER = int(WORKER[2:]) if WORKER.startswith("gw") else 0
# One run's id (the same in all its workers), so two runs on one machine never share a database.
RUN = (os.environ.get("PYTEST_XDIST_TESTRUNUID") or str(os.getpid()))[:8]


def worker_database_url(url: str) -> str:
    """The worker's own PostgreSQL database beside the one named (`test` → `test_gw1_<run>`); SQLite URLs as they
    are."""
    if not url.startswith("postgresql"):
        return url
    parts = urlsplit(url)
    name = parts.path.lstrip("/") or "test"
    return urlunsplit(parts._replace(path=f"/{name}_{WORKER or 'main'}_{RUN}"))


def worker_redis_url(url: str) -> str:
    """The worker's own Redis database: the one named for the first worker, the ones below it for the others."""
    parts = urlsplit(url)
    base = int(parts.path.lstrip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(base - WORKER_NUMBER) % 16}"))


def create_database(worker_url: str, server_url: str) -> None:
    """Create the worker's database afresh, through the server's database named in `server_url`."""
    name = urlsplit(worker_url).path.lstrip("/")
    engine = sa.create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()


def drop_database(worker_url: str, server_url: str) -> None:
    """Drop the worker's database at the end of the run."""
    name = urlsplit(worker_url).path.lstrip("/")
    engine = sa.create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    engine.dispose()


class MemoryBytecodeCache(BytecodeCache):
    """Compiled templates kept in memory, so every app a worker builds compiles each template once."""

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        """Fill the bucket from memory when this template was compiled before."""
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket) -> None:
        """Keep a compiled template."""
        self.compiled[bucket.key] = bucket.bytecode_to_string()

    def clear(self) -> None:
        """Forget every compiled template."""
        self.compiled.clear()


def empty_tables(engine: sa.Engine, metadata: sa.MetaData) -> None:
    """Delete every row in one round trip (DELETE, not TRUNCATE: ten times faster on small tables), ids from 1."""
    tables = [table.name for table in reversed(metadata.sorted_tables)]
    if engine.dialect.name == "postgresql":
        statements = [f'DELETE FROM "{name}"' for name in tables]
        statements.append("SELECT setval(c.oid, 1, false) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                          " WHERE c.relkind = 'S' AND n.nspname = current_schema()")
        with engine.begin() as connection:
            connection.exec_driver_sql("; ".join(statements))
        return
    with engine.begin() as connection:
        for name in tables:
            connection.exec_driver_sql(f'DELETE FROM "{name}"')
        if connection.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").first():
            connection.exec_driver_sql("DELETE FROM sqlite_sequence")
