"""Database helpers shared by every feature."""

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from app.extensions import db


def utcnow() -> datetime:
    """The current time in UTC, as a callable default for models."""
    return datetime.now(UTC)


def enable_sqlite_wal(engine: sa.Engine) -> None:
    """Use SQLite's write-ahead log and enforce foreign keys on every connection."""

    @sa.event.listens_for(engine, "connect")
    def set_pragmas(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        # With the write-ahead log, NORMAL still never corrupts the file; it only leaves the last commits to a power
        # cut (not to a crash of the process), and spares an fsync per commit.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def is_fault(error: sa.exc.DBAPIError) -> bool:
    """Whether a database error is the database being away (a lost or refused connection, a locked SQLite file),
    not a statement it refused: the first may be tried again later, the second never succeeds."""
    return error.connection_invalidated or isinstance(error, sa.exc.OperationalError | sa.exc.InterfaceError)


def close_session(_error: BaseException | None = None) -> None:
    """End the request's session before Flask-SQLAlchemy removes it: a connection the database closed after the
    request's last query is dropped, not turned into an error page once the answer is ready."""
    if not db.session.registry.has():
        return  # the request never used the database
    try:
        db.session.close()
    except sa.exc.DBAPIError as error:
        if not error.connection_invalidated:
            raise


def among(column: sa.ColumnElement, values: list) -> sa.ColumnElement[bool]:
    """`column IN values` for a bulk statement: on PostgreSQL one array parameter (`= ANY`), since thousands of
    placeholders cost more to write and parse than the statement itself; on SQLite a plain `IN`."""
    if db.session.get_bind().dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam(None, list(values), type_=postgresql.ARRAY(column.type)))
    return column.in_(values)


class UTCDateTime(sa.types.TypeDecorator):
    """A timezone-aware UTC datetime on SQLite (which forgets the zone) as on PostgreSQL."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        """Store aware datetimes converted to UTC."""
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given; use UTC-aware datetimes")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):
        """Give back aware UTC datetimes."""
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def new_public_id() -> str:
    """A random id for signed links (never the row id, which a new row could reuse)."""
    return uuid.uuid4().hex


class AppendOnlyError(RuntimeError):
    """Raised when code tries to rewrite (or delete one by one) a row of an append-only log."""


def append_only(*, deletable: bool = False):
    """Class decorator: rows are never updated (nor deleted one by one unless `deletable`); bulk purges still run."""

    def refuse(_mapper, _connection, target) -> None:
        raise AppendOnlyError(f"{target.__tablename__} row {target.id} is append-only")

    def decorate(model):
        sa.event.listen(model, "before_update", refuse)
        if not deletable:
            sa.event.listen(model, "before_delete", refuse)
        return model

    return decorate


def committed_first() -> bool:
    """Commit; False (rolled back) when a unique constraint says another request stored the same thing first."""
    try:
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
        return False
    return True
