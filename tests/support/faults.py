"""Database faults on demand: the connection that is about to run a chosen statement is ended under it, as a
restart, a terminated backend or a killed file handle would (on PostgreSQL from the server's side)."""

import contextlib
import re
import threading

import sqlalchemy as sa


def end_connection(connection: sa.Connection, server_url: str) -> None:
    """End this connection: PostgreSQL terminates its backend, SQLite's handle is closed."""
    dbapi = connection.connection.dbapi_connection
    if connection.dialect.name != "postgresql":
        dbapi.close()
        return
    engine = sa.create_engine(server_url, poolclass=sa.pool.NullPool)
    with engine.connect() as other:
        other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": dbapi.info.backend_pid})
    engine.dispose()


@contextlib.contextmanager
def connection_lost_at(engine: sa.Engine, server_url: str, statement: str, times: int = 1):
    """Within the block, the first `times` statements matching the regular expression `statement` find their
    connection ended; the count of connections ended is in the yielded list."""
    pattern, ended, lock = re.compile(statement, re.IGNORECASE | re.DOTALL), [], threading.Lock()

    def before(connection, _cursor, text, _parameters, _context, _executemany) -> None:
        with lock:
            if len(ended) >= times or not pattern.search(text):
                return
            ended.append(text)
        end_connection(connection, server_url)

    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        yield ended
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
