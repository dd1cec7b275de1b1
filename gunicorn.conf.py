"""Gunicorn settings for `make serve`: workers, an access log that never holds a signed link's token, and
Prometheus in multiprocess mode."""

import os
import re
import shutil
from pathlib import Path

from dotenv import load_dotenv
from gunicorn.glogging import Logger

load_dotenv()  # .env's settings hold for gunicorn's own (workers, address, log) as for the app's

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")

# A signed link's token: URL-safe base64 parts joined by dots, the last one a signature of 27 characters
# (itsdangerous: `payload.timestamp.signature` or `value.signature`); host names and file names never end so.
TOKEN = re.compile(r"[A-Za-z0-9_\-]+(?:\.[A-Za-z0-9_\-]+)*\.[A-Za-z0-9_\-]{20,}")
REDACTED = "[token]"
# The access-log fields that carry the address asked for (request line, path, query string, referrer).
URL_ATOMS = ("r", "U", "q", "f")


def redact(text: str) -> str:
    """The text with every token-shaped part replaced."""
    return TOKEN.sub(REDACTED, text) if isinstance(text, str) else text


class RedactingLogger(Logger):
    """Gunicorn's logger, with tokens taken out of the request line, path, query string and referrer."""

    def atoms(self, resp, req, environ, request_time):
        """The usual log fields, redacted (request headers are not logged by the default format)."""
        atoms = super().atoms(resp, req, environ, request_time)
        for key in URL_ATOMS:
            atoms[key] = redact(atoms.get(key))
        atoms["{referer}i"] = redact(atoms.get("{referer}i", "-"))
        return atoms


logger_class = RedactingLogger


# Every worker writes its request metrics here; /metrics adds them up (prometheus_client's multiprocess mode).
# An empty value counts as unset: the folder is emptied at start, so it must never be the working directory.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(Path(os.environ.get("INSTANCE_PATH") or "instance").resolve()
                                                 / "prometheus")


def on_starting(server) -> None:
    """Tell the app how many workers share the rate limits (production refuses memory:// with more than one), and
    start with no metrics left by a former run."""
    os.environ["GUNICORN_WORKERS"] = str(server.cfg.workers)
    folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)


def child_exit(server, worker) -> None:
    """Forget the live gauges of a worker that stopped (its counters are kept)."""
    from prometheus_client import multiprocess  # imported after PROMETHEUS_MULTIPROC_DIR is set

    multiprocess.mark_process_dead(worker.pid)
