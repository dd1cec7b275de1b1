"""Every log line without a secret: signed links' tokens, long ids in paths and query strings, e-mail addresses and
phone numbers are replaced before any handler writes them (the access log, the error log, SQL echo, tracebacks).

SQLAlchemy is also told to keep statement parameters out of its logs and error messages (`hide_parameters`).
"""

import logging
import re

from flask import Flask
from flask.logging import default_handler

# A signed link's token: URL-safe base64 parts joined by dots, the last one a signature of 27 characters or more
# (itsdangerous: `payload.timestamp.signature` or `value.signature`); host names and file names never end so.
TOKEN = re.compile(r"[A-Za-z0-9_\-]+(?:\.[A-Za-z0-9_\-]+)*\.[A-Za-z0-9_\-]{20,}")
# A path segment or a query value of 20 URL-safe characters or more: a public id (32 hex digits), a bare token.
LONG_ID = re.compile(r"(?<=[/=])[A-Za-z0-9_\-]{20,}")
EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~\-]+(?:@|%40)[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
# E.164 (`+33612345678`, `%2B33…` in a query string) and French national numbers (`06 12 34 56 78`).
PHONE = re.compile(r"(?:\+|%2B)\d{8,15}\b|\b0[1-9](?:[ .\-]?\d{2}){4}\b", re.IGNORECASE)
REPLACEMENTS = ((EMAIL, "[email]"), (TOKEN, "[token]"), (LONG_ID, "[token]"), (PHONE, "[phone]"))
# The loggers whose handlers write what requests, the database and the rate limiter report.
LOGGERS = ("", "app", "gunicorn.error", "gunicorn.access", "sqlalchemy.engine", "sqlalchemy.engine.Engine",
           "werkzeug", "flask-limiter")


def redact(text: str) -> str:
    """The text with every token, long id, address and phone number replaced."""
    for pattern, replacement in REPLACEMENTS:
        text = pattern.sub(replacement, text)
    return text


class Redacting(logging.Filter):
    """A handler filter that redacts the record's message and its traceback before the handler formats them."""

    formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact in place (the message is formatted once, its arguments dropped); always let the record through."""
        record.msg, record.args = redact(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


REDACTING = Redacting()


def redact_handlers(*handlers: logging.Handler) -> None:
    """Put the filter on these handlers (once each)."""
    for handler in handlers:
        if REDACTING not in handler.filters:
            handler.addFilter(REDACTING)


def init_app(app: Flask) -> None:
    """Redact on every handler the app, gunicorn, SQLAlchemy, Werkzeug and Flask-Limiter write through."""
    redact_handlers(default_handler, *app.logger.handlers)
    for name in LOGGERS:
        redact_handlers(*logging.getLogger(name).handlers)
