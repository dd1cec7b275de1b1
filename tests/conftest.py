"""Shared fixtures: the app on a migrated database, a real SMTP server on loopback, form helpers."""

import contextvars
import logging
import os
import re
import tempfile
from pathlib import Path

os.environ.setdefault("INSTANCE_PATH", tempfile.mkdtemp(prefix="kinv-test-instance-"))

import pytest  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402

from app import create_app  # noqa: E402
from app.config import TestingConfig, psycopg_url  # noqa: E402
from app.extensions import db as _db  # noqa: E402
from tests.support.smtp import SmtpSink  # noqa: E402

TEST_DATABASE_URL = psycopg_url(
    os.environ.get("DATABASE_URL") or f"sqlite:///{Path(tempfile.mkdtemp(prefix='kinv-db-')) / 'test.sqlite'}"
)
CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def is_postgresql() -> bool:
    """Whether this run is against PostgreSQL."""
    return TEST_DATABASE_URL.startswith("postgresql")


# The PostgreSQL database of the tests that need one even in a SQLite run (row locks, both dialects' migrations).
POSTGRESQL_URL = TEST_DATABASE_URL if is_postgresql() else psycopg_url(
    os.environ.get("TEST_POSTGRESQL_URL") or "postgresql://127.0.0.1:5432/test")


class IsolatedClient(FlaskClient):
    """A test client whose every request gets its own app context, as in production."""

    def open(self, *args, **kwargs):
        """Run the request outside the test's app context (so `g` and sessions are per request)."""
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture(scope="session")
def smtp_server():
    """A real SMTP server (aiosmtpd) on loopback for the whole run."""
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


def build_config(smtp_port: int, **overrides) -> TestingConfig:
    """Test settings: the test database, loopback SMTP, a fixed site URL."""
    config = TestingConfig()
    config.SQLALCHEMY_DATABASE_URI = TEST_DATABASE_URL
    config.SITE_URL = "http://localhost"
    config.MAIL_SERVER = "127.0.0.1"
    config.MAIL_PORT = smtp_port
    config.MAIL_TIMEOUT = 3
    for name, value in overrides.items():
        setattr(config, name, value)
    return config


@pytest.fixture(scope="session")
def migrated_database(smtp_server):
    """Bring the test database to the newest schema once, from a clean slate."""
    from flask_migrate import upgrade

    app = create_app(build_config(smtp_server.port))
    with app.app_context():
        reset_schema(_db.engine)
        upgrade(revision="heads")
        _db.engine.dispose()
    return TEST_DATABASE_URL


def reset_schema(engine: sa.Engine) -> None:
    """Drop every table, whatever left it there."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(sa.text("DROP SCHEMA public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
        else:
            metadata = sa.MetaData()
            metadata.reflect(connection)
            metadata.drop_all(connection)


@pytest.fixture
def make_app(migrated_database, smtp_server):
    """Build an app with extra settings; tables are emptied and every app's connections closed after the test."""
    apps = []

    def factory(**overrides):
        app = create_app(build_config(smtp_server.port, **overrides))
        app.test_client_class = IsolatedClient
        apps.append(app)
        return app

    yield factory
    for index, built in enumerate(apps):
        with built.app_context():
            if index == 0:
                empty_tables()
            _db.session.remove()
            _db.engine.dispose()


def empty_tables() -> None:
    """Delete every row so the next test starts empty."""
    tables = list(reversed(_db.metadata.sorted_tables))
    with _db.engine.begin() as connection:
        if _db.engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            connection.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(table.delete())


@pytest.fixture
def app(make_app):
    """The app with test settings, inside an application context."""
    app = make_app()
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    """A test client."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A CLI runner for `flask` commands."""
    return app.test_cli_runner()


@pytest.fixture
def app_logger():
    """Put the `app` logger back as it was after a test that switches it to JSON."""
    logger = logging.getLogger("app")
    saved = (logger.handlers[:], logger.level, logger.propagate, logging.getLogger("werkzeug").level)
    yield logger
    logger.handlers[:], logger.level, logger.propagate = saved[:3]
    logging.getLogger("werkzeug").setLevel(saved[3])


@pytest.fixture
def mailbox(smtp_server):
    """The messages the SMTP server receives during this test."""
    smtp_server.clear()
    return smtp_server


@pytest.fixture
def policy(app):
    """The first policy version, published."""
    from app.policy.services import load_first_version

    return load_first_version()


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = CSRF_FIELD.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


def submit_form(client, url: str, data: dict, **kwargs):
    """GET a page, then POST its form with the page's CSRF token, as a browser would."""
    page = client.get(url)
    return client.post(url, data={"csrf_token": csrf_token(page.get_data(as_text=True)), **data}, **kwargs)


def deliver_mail() -> None:
    """Run one pass of the outbox worker (inside an app context)."""
    from app.mail.services import deliver_due

    deliver_due()


@pytest.fixture
def live_server(make_app):
    """The app served over real HTTP on 127.0.0.1 (SITE_URL set to it), with the first policy loaded."""
    from app.policy.services import load_first_version
    from tests.support.live import LiveServer

    app = make_app()
    server = LiveServer(app)
    app.config["SITE_URL"] = server.url
    with app.app_context():
        load_first_version()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def playwright_instance():
    """Playwright, started once."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance):
    """Debian's Chromium, headless."""
    from tests.support.live import launch_chromium

    browser = launch_chromium(playwright_instance)
    yield browser
    browser.close()


@pytest.fixture
def page(browser):
    """A fresh browser context and page (no cookies), with JavaScript on."""
    context = browser.new_context(locale="fr-FR")
    yield context.new_page()
    context.close()
