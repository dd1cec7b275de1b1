"""Connections that recover: the database's connections ended under load cost no error page, on both databases."""

import http.client
import threading
import time
from urllib.parse import urlsplit

import sqlalchemy as sa

from app.config import Config
from tests.conftest import TEST_DATABASE_URL, is_postgresql
from tests.support.live import LiveServer

APP_NAME = "kinv-reconnect-test"  # only this test's connections are ended
PATHS = ["/confidentialite", "/confidentialite/versions", "/en/privacy", "/cookies"]


def terminate_app_connections() -> int:
    """End the site's PostgreSQL connections from the server's side, as a restart or an administrator would."""
    engine = sa.create_engine(TEST_DATABASE_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as connection:
        ended = connection.execute(sa.text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = :name"), {"name": APP_NAME}).scalar()
    engine.dispose()
    return ended


def get(url: str, path: str) -> int:
    """The status of one GET."""
    connection = http.client.HTTPConnection(urlsplit(url).netloc, timeout=30)
    connection.request("GET", path)
    status = connection.getresponse().status
    connection.close()
    return status


class SqliteConnections:
    """The site's idle SQLite connections, closed under it as a killed handle would be. (Closing one another thread is
    using crashes CPython's sqlite3 module, so no SQLite site can live through that case: only idle ones are ended.)"""

    def __init__(self, engine: sa.Engine) -> None:
        self.idle = engine.pool._pool  # the pool's queue of idle connections, and the lock every checkout takes

    def terminate(self) -> int:
        """Close every connection waiting in the pool; the count closed."""
        with self.idle.mutex:
            for record in self.idle.queue:
                record.dbapi_connection.close()
            return len(self.idle.queue)


def app_under_test(make_app):
    """The site, its policy published, and how to end its database connections."""
    from app.extensions import db
    from app.policy.services import load_first_version

    if is_postgresql():
        options = {**Config.SQLALCHEMY_ENGINE_OPTIONS, "connect_args": {"application_name": APP_NAME}}
        app = make_app(RATELIMIT_ENABLED=False, PAGE_CACHE_SECONDS=0, SQLALCHEMY_ENGINE_OPTIONS=options)
        terminate = terminate_app_connections
    else:
        app = make_app(RATELIMIT_ENABLED=False, PAGE_CACHE_SECONDS=0)  # every page asks the database
        with app.app_context():
            terminate = SqliteConnections(db.engine).terminate
    with app.app_context():
        load_first_version()
    return app, terminate


def test_terminated_connections_cost_no_error_page(make_app):
    app, terminate = app_under_test(make_app)
    server = LiveServer(app).start()
    statuses, stop = [], threading.Event()

    def visitor() -> None:
        while not stop.is_set():
            for path in PATHS:
                statuses.append(get(server.url, path))

    visitors = [threading.Thread(target=visitor) for _ in range(4)]
    try:
        for thread in visitors:
            thread.start()
        ended = 0
        for _ in range(3):
            time.sleep(0.5)
            ended += terminate()
        time.sleep(0.5)
    finally:
        stop.set()
        for thread in visitors:
            thread.join(timeout=30)
        server.stop()
    assert ended >= 3  # the pool's connections were there to end, each time
    assert len(statuses) > 50 and set(statuses) == {200}, sorted(set(statuses))
