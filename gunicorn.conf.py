"""gunicorn settings read by `make serve` (gunicorn loads ./gunicorn.conf.py): Prometheus in multiprocess mode."""

import os
import shutil
from pathlib import Path

# Every worker writes its request metrics here; /metrics adds them up (prometheus_client's multiprocess mode).
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(Path(os.environ.get("INSTANCE_PATH", "instance")).resolve()
                                                      / "prometheus"))


def on_starting(server) -> None:
    """Start with no metrics left by a former run."""
    folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)


def child_exit(server, worker) -> None:
    """Forget the live gauges of a worker that stopped (its counters are kept)."""
    from prometheus_client import multiprocess  # imported after PROMETHEUS_MULTIPROC_DIR is set

    multiprocess.mark_process_dead(worker.pid)
