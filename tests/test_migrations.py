"""Migrations run up and down on SQLite and PostgreSQL, and match what the models declare."""

import os

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from app import create_app
from app.extensions import db
from tests.conftest import POSTGRESQL_URL as POSTGRES_URL
from tests.conftest import build_config

# One scratch schema per test process, so runs that share the PostgreSQL server never drop each other's schema.
SCRATCH_SCHEMA = f"migration_check_{os.getpid()}"


def scratch_databases(tmp_path) -> dict[str, str]:
    """A fresh SQLite file and a fresh PostgreSQL schema."""
    return {
        "sqlite": f"sqlite:///{tmp_path / 'migrations.sqlite'}",
        "postgresql": f"{POSTGRES_URL}?options=-csearch_path%3D{SCRATCH_SCHEMA}",
    }


def recreate_postgres_schema(engine: sa.Engine) -> None:
    """Start the PostgreSQL check from an empty schema."""
    with engine.begin() as connection:
        connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCRATCH_SCHEMA} CASCADE"))
        connection.execute(sa.text(f"CREATE SCHEMA {SCRATCH_SCHEMA}"))


def schema_differences() -> list:
    """What autogenerate would still write: empty when migrations match the models."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def table_names() -> set[str]:
    """Tables present now."""
    return set(sa.inspect(db.engine).get_table_names())


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_migrations_up_down_up_and_match_the_models(tmp_path, smtp_server, dialect):
    url = scratch_databases(tmp_path)[dialect]
    app = create_app(build_config(smtp_server.port, SQLALCHEMY_DATABASE_URI=url))
    with app.app_context():
        if dialect == "postgresql":
            recreate_postgres_schema(db.engine)
        upgrade(revision="heads")
        model_tables = {table.name for table in db.metadata.sorted_tables}
        assert model_tables <= table_names()
        assert schema_differences() == []
        downgrade(revision="base")
        assert table_names() <= {"alembic_version"}
        upgrade(revision="heads")
        assert schema_differences() == []
        if dialect == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(sa.text(f"DROP SCHEMA {SCRATCH_SCHEMA} CASCADE"))
        db.engine.dispose()
