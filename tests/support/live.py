"""The app served on loopback by a real HTTP server, and Debian's Chromium driven by Playwright."""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


class LiveServer:
    """Serve a Flask app from a thread on a free loopback port."""

    def __init__(self, app) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> "LiveServer":
        """Begin serving."""
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wait for the thread, and close the listening socket."""
        self.server.shutdown()
        self.thread.join(timeout=5)
        self.server.server_close()


@contextmanager
def serving(app) -> Iterator[LiveServer]:
    """The app served over real HTTP, inside its app context, with the first policy version published."""
    from app.policy.services import load_first_version

    server = LiveServer(app)
    with app.app_context():
        load_first_version()
        server.start()
        try:
            yield server
        finally:
            server.stop()


def launch_chromium(playwright):
    """Launch Debian's Chromium; fail (never skip) when it is missing."""
    assert CHROMIUM.exists(), "Debian's chromium is missing: run `make system-deps` (apt-get install chromium)"
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)


def all_at_once(calls: list[Callable[[], object]]) -> list:
    """Run each call in its own thread, all released at the same moment (a barrier); their results, in order."""
    barrier, results = threading.Barrier(len(calls)), [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        results[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results
