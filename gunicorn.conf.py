"""Gunicorn settings for `make serve`: workers, the access and error logs (redacted by the app), and Prometheus in
multiprocess mode."""

import os
import shutil
from pathlib import Path

from dotenv import load_dotenv

load_dotenv()  # .env's settings hold for gunicorn's own (workers, address, log) as for the app's

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")

# Tokens, addresses and numbers are taken out of both logs' lines by the app itself, in each worker (app.ops.redaction).
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")


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
