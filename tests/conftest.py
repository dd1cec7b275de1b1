"""Shared fixtures: one app per worker on its own migrated database, a real SMTP server on loopback, form helpers."""

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
from hypothesis import HealthCheck, settings  # noqa: E402

from app import create_app  # noqa: E402
from app.config import TestingConfig, psycopg_url  # noqa: E402
from app.extensions import cache, limiter  # noqa: E402
from app.extensions import db as _db  # noqa: E402
from tests.support import workers  # noqa: E402
from tests.support.smtp import SmtpSink  # noqa: E402

# The server database each worker creates its own beside (DATABASE_URL, or TEST_POSTGRESQL_URL in a SQLite run).
SERVER_DATABASE_URL = psycopg_url(os.environ.get("DATABASE_URL") or "")
TEST_DATABASE_URL = workers.worker_database_url(SERVER_DATABASE_URL) if SERVER_DATABASE_URL else psycopg_url(
    f"sqlite:///{Path(tempfile.mkdtemp(prefix='kinv-db-')) / 'test.sqlite'}")
CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')
os.environ["REDIS_URL"] = workers.worker_redis_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"))
TEMPLATES = workers.MemoryBytecodeCache()  # each template compiled once per worker, whatever app renders it

# Hypothesis: few examples in `make test` (the `ci` profile), many in `make fuzz` (HYPOTHESIS_PROFILE=full).
for name, examples in (("ci", 15), ("full", 300)):
    settings.register_profile(name, max_examples=examples, deadline=None, database=None,
                              suppress_health_check=list(HealthCheck))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def is_postgresql() -> bool:
    """Whether this run is against PostgreSQL."""
    return TEST_DATABASE_URL.startswith("postgresql")


# The PostgreSQL database of the tests that need one even in a SQLite run (row locks, both dialects' migrations).
POSTGRESQL_SERVER_URL = SERVER_DATABASE_URL if is_postgresql() else psycopg_url(
    os.environ.get("TEST_POSTGRESQL_URL") or "postgresql://127.0.0.1:5432/test")
POSTGRESQL_URL = TEST_DATABASE_URL if is_postgresql() else workers.worker_database_url(POSTGRESQL_SERVER_URL)


def pytest_report_header(config) -> str:
    """Say which databases and how many hypothesis examples this run uses."""
    profile = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
    return (f"database: {TEST_DATABASE_URL.split('?')[0]}; hypothesis profile "
            f"{os.environ.get('HYPOTHESIS_PROFILE', 'ci')!r}: {profile.max_examples} examples a property")


@pytest.fixture(scope="session", autouse=True)
def worker_postgresql():
    """This worker's own PostgreSQL database, created afresh and dropped at the end (in a SQLite run, when the
    server is there: the tests that need PostgreSQL fail on their own without it)."""
    try:
        workers.create_database(POSTGRESQL_URL, POSTGRESQL_SERVER_URL)
    except sa.exc.OperationalError:
        if is_postgresql():
            raise
        yield
        return
    yield
    workers.drop_database(POSTGRESQL_URL, POSTGRESQL_SERVER_URL)


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
def migrated_database(smtp_server, worker_postgresql):
    """Bring the worker's test database to the newest schema once, from a clean slate."""
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


@pytest.fixture(scope="session")
def cleaning_engine(migrated_database):
    """One connection pool, for emptying the tables after each test."""
    engine = sa.create_engine(migrated_database, poolclass=sa.pool.StaticPool if "sqlite" in migrated_database
                              else sa.pool.QueuePool)
    yield engine
    engine.dispose()


@pytest.fixture
def clean_database(cleaning_engine):
    """Empty every table after the test (whichever apps it built)."""
    yield
    workers.empty_tables(cleaning_engine, _db.metadata)


def built_app(smtp_port: int, **overrides):
    """An app with test settings, its test client isolated per request and its templates compiled once a worker."""
    app = create_app(build_config(smtp_port, **overrides))
    app.test_client_class = IsolatedClient
    app.jinja_env.bytecode_cache = TEMPLATES
    return app


@pytest.fixture
def make_app(clean_database, smtp_server):
    """Build an app with its own settings (where a test needs other settings than `app`'s); each app's connections
    are closed after the test."""
    apps = []

    def factory(**overrides):
        apps.append(built_app(smtp_server.port, **overrides))
        return apps[-1]

    yield factory
    for built in apps:
        with built.app_context():
            _db.session.remove()
            _db.engine.dispose()


@pytest.fixture(scope="session")
def shared_app(migrated_database, smtp_server):
    """The app with the default test settings, built once a worker; what a test changes is put back after it."""
    app = built_app(smtp_server.port)
    with app.app_context():
        _db.engine.connect().close()
    yield app, dict(app.config), set(app.extensions), dict(vars(limiter))
    with app.app_context():
        _db.engine.dispose()


@pytest.fixture
def app(shared_app, clean_database):
    """The app with test settings, inside an application context."""
    app, config, extensions, limiter_state = shared_app
    vars(limiter).update(limiter_state)  # the limiter is one object: bound again to this app's storage and settings
    expiring = getattr(limiter.storage, "timer", None)  # limits' memory storage expires keys in a thread of its own,
    if expiring is not None:  # which a reset under its feet makes fail (KeyError): let it end first
        expiring.join()
    limiter.reset()
    with app.app_context():
        yield app
        _db.session.remove()
        cache.clear()  # the pages it kept
    app.config.clear()
    app.config.update(config)
    for name in set(app.extensions) - extensions:  # what the test left in memory (pages served, the policy in force)
        del app.extensions[name]


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
    """The CSRF token of the first form on a page (staff pages); "" on a public page, whose forms carry none."""
    match = CSRF_FIELD.search(html)
    return (match.group(1) or match.group(2)) if match else ""


def submit_form(client, url: str, data: dict, **kwargs):
    """GET a page, then POST its form with the page's CSRF token, as a browser would."""
    page = client.get(url)
    return client.post(url, data={"csrf_token": csrf_token(page.get_data(as_text=True)), **data}, **kwargs)


def deliver_mail() -> None:
    """Run one pass of the outbox worker (inside an app context)."""
    from app.mail.services import deliver_due

    deliver_due()


@pytest.fixture
def live_server(app):
    """The app served over real HTTP on 127.0.0.1 (SITE_URL set to it), with the first policy loaded."""
    from app.policy.services import load_first_version
    from tests.support.live import LiveServer

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
