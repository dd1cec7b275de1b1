"""Migrations on demand: Flask-Migrate's settings and `flask db`, with alembic imported only when one runs.

Flask-Migrate imports alembic (and through it mako and pygments, about 8 MB) as soon as it is imported; the web
workers, the outbox worker and `flask newsletter send` never migrate, so they never import it.
"""

import importlib
from functools import cached_property

import click
from flask import Flask
from flask_sqlalchemy import SQLAlchemy


class MigrationSettings:
    """What Flask-Migrate reads from `app.extensions["migrate"]` (its `_MigrateConfig`), the `Migrate` made late."""

    def __init__(self, db: SQLAlchemy, directory: str, **configure_args) -> None:
        self.db, self.directory, self.configure_args = db, directory, configure_args

    @cached_property
    def migrate(self):
        """Flask-Migrate's `Migrate`, which makes alembic's configuration: imported the first time it is asked."""
        from flask_migrate import Migrate

        return Migrate(db=self.db, directory=self.directory, **self.configure_args)

    @property
    def metadata(self):
        """The models' metadata, as Flask-Migrate's own settings object offers it."""
        return self.db.metadata


class DeferredGroup(click.Group):
    """A command group listed by `flask --help` but imported only when it is run (`module:attribute`)."""

    def __init__(self, name: str, target: str, help: str) -> None:
        super().__init__(name, help=help)
        self.target = target

    def load(self) -> click.Group:
        """The real group."""
        module, attribute = self.target.split(":")
        return getattr(importlib.import_module(module), attribute)

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:
        """The real group parses the arguments; the context it returns runs the real group."""
        return self.load().make_context(info_name, args, parent=parent, **extra)

    def list_commands(self, ctx: click.Context) -> list[str]:
        """The real group's commands (shell completion)."""
        return self.load().list_commands(ctx)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        """One of the real group's commands (shell completion)."""
        return self.load().get_command(ctx, name)


def init_app(app: Flask, db: SQLAlchemy, directory: str) -> None:
    """What `Migrate.init_app` does (settings for alembic's env.py, the `flask db` group), without importing it."""
    app.extensions["migrate"] = MigrationSettings(db, directory, render_as_batch=True, compare_type=True)
    app.cli.add_command(DeferredGroup("db", "flask_migrate.cli:db", help="Perform database migrations."))
