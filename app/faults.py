"""Database faults met by a request: served again once on a new connection when nothing was committed yet, then
answered 503 with Retry-After (the client, or a mail provider's one-click, tries again later), never a plain 500."""

import sqlalchemy as sa
from flask import Flask, current_app, g, has_request_context, request
from werkzeug.exceptions import InternalServerError, ServiceUnavailable

from app.database import is_fault
from app.extensions import db

SAFE_METHODS = frozenset({"GET", "HEAD"})
RETRY_AFTER_SECONDS = 30


class DatabaseUnavailable(ServiceUnavailable):
    """The database did not answer, or lost the request's connection: try again in a moment."""

    def __init__(self) -> None:
        super().__init__(retry_after=RETRY_AFTER_SECONDS)


def note_commit_started(_session) -> None:
    """Remember that the request began a commit: from then on, serving it again could record it twice."""
    if has_request_context():
        g.db_commit_started = True


def may_serve_again() -> bool:
    """Once per request, and for a request that may change something, only before any commit began (a commit whose
    connection was lost may have been recorded)."""
    if g.get("db_retried"):
        return False
    return request.method in SAFE_METHODS or not g.get("db_commit_started")


def database_fault(error: sa.exc.DBAPIError):
    """A lost or refused connection: the request served again once, or DatabaseUnavailable; any other database
    error stays an error."""
    if not is_fault(error):
        raise error
    db.session.rollback()  # a lost connection is replaced by the pool on the next use
    if not may_serve_again():
        current_app.logger.warning("database unavailable: %s %s answered 503 (%s)", request.method, request.path,
                                   type(error).__name__)
        return current_app.handle_user_exception(DatabaseUnavailable())
    g.db_retried = True
    try:
        return current_app.preprocess_request() or current_app.dispatch_request()
    except Exception as again:  # handled as the first attempt's errors are (a second fault: 503)
        return current_app.handle_user_exception(again)


def init_app(app: Flask) -> None:
    """Handle database faults; note when a request begins a commit."""
    app.register_error_handler(sa.exc.DBAPIError, database_fault)
    if not sa.event.contains(db.session, "before_commit", note_commit_started):
        sa.event.listen(db.session, "before_commit", note_commit_started)


def from_fault(error: InternalServerError) -> DatabaseUnavailable | None:
    """The 503 a 500 stands for, when what failed was the database (in a hook after the view)."""
    original = getattr(error, "original_exception", None)
    if isinstance(original, sa.exc.DBAPIError) and is_fault(original):
        return DatabaseUnavailable()
    return None
