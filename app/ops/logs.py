"""LOG_FORMAT=json: one JSON line per request, and every log record as JSON, with the request's id.

A line names the route (`/newsletter/desabonnement/<token>`), never the URL that was asked, so no token, address or
query string is ever written; nor is the client's IP address or user agent.
"""

import json
import logging
import re
import sys
import time
import uuid

from flask import Flask, g, has_request_context, request
from flask.logging import default_handler
from flask_babel import get_locale

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")  # an id given by a proxy in X-Request-ID, if it looks like one
request_log = logging.getLogger("app.requests")


class JsonFormatter(logging.Formatter):
    """A log record as one line of JSON: time, level, logger, message, request id, and the fields given in `extra`."""

    FIELDS = ("method", "route", "endpoint", "status", "duration_ms", "lang")

    def format(self, record: logging.LogRecord) -> str:
        """The JSON line."""
        line = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
                "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage()}
        if has_request_context() and "request_id" in g:
            line["request_id"] = g.request_id
        line.update({name: getattr(record, name) for name in self.FIELDS if hasattr(record, name)})
        if record.exc_info:
            line["error"] = record.exc_info[0].__name__ if record.exc_info[0] else None
        return json.dumps(line, ensure_ascii=False)


def assign_request_id() -> None:
    """Take the proxy's X-Request-ID when it looks like one, else make one; note when the request began."""
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex
    g.log_started = time.perf_counter()


def log_request(response):
    """One line per request, and the id in the response for whoever reports a problem."""
    response.headers["X-Request-ID"] = g.get("request_id", "")
    started = g.get("log_started")
    write_request_line(request.method, request.url_rule.rule if request.url_rule else None, request.endpoint,
                       response.status_code, str(get_locale() or "fr"),
                       time.perf_counter() - started if started else None)
    return response


def write_request_line(method: str, route: str | None, endpoint: str | None, status: int, lang: str,
                       seconds: float | None) -> None:
    """The request line (the request id is read from the request)."""
    request_log.info("request", extra={
        "method": method, "route": route, "endpoint": endpoint, "status": status, "lang": lang,
        "duration_ms": round(seconds * 1000, 1) if seconds is not None else None})


def hear_the_rate_limiter(handler: logging.Handler) -> None:
    """Flask-Limiter's logger has only a NullHandler: its warning that the shared storage is unreachable (each worker
    then counts limits in its own memory, once a worker per outage) and its note of recovery are written where the
    app's lines are."""
    limiter_log = logging.getLogger("flask-limiter")
    kept = [kept for kept in limiter_log.handlers if not isinstance(kept, logging.StreamHandler)]
    limiter_log.handlers[:] = [*kept, handler]
    limiter_log.setLevel(logging.INFO)


def init_app(app: Flask) -> None:
    """With LOG_FORMAT=json: JSON lines on standard error for the app's loggers, and the request lines. Either way,
    Flask-Limiter's warnings are written with the app's."""
    if app.config["LOG_FORMAT"] != "json":
        hear_the_rate_limiter(default_handler)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    for logger in (app.logger, logging.getLogger("app")):
        logger.handlers[:] = [handler]
        logger.setLevel(logging.INFO)
        logger.propagate = False
    hear_the_rate_limiter(handler)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the development server's lines hold addresses and URLs
    app.before_request(assign_request_id)
    app.after_request(log_request)
