"""Benchmark: each page's CPU per request inside the process, beside a bare Flask app serving the same bytes.

No server and no network: both apps' WSGI callables are called directly with the same request, in alternating
batches of 20 (so that a busy neighbour slows both alike), 150 batches each; the 10th percentile of each is kept.
This is the part of bench/pages.py's figures that is the app's own work; it moves far less from run to run.
Usage: `.venv/bin/python bench/pages_in_process.py [--batches 150]`.
"""

import argparse
import sys
import time
from pathlib import Path

from flask import Flask, Response
from werkzeug.test import EnvironBuilder

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pages import PAGES, SCRATCH, page_label, prepare  # noqa: E402  (after the path is set)

BATCH = 20


def bare_app(body: bytes) -> Flask:
    """A bare Flask app answering every path with these bytes."""
    app = Flask("bare")
    app.add_url_rule("/", "page", lambda **_: Response(body, content_type="text/html; charset=utf-8"),
                     defaults={"path": ""})
    app.add_url_rule("/<path:path>", "page")
    return app


def call(app, environ: dict) -> bytes:
    """One request through the app's WSGI callable; the body."""
    body = app(dict(environ), lambda status, headers, exc_info=None: None)
    try:
        return b"".join(body)
    finally:
        getattr(body, "close", lambda: None)()


def per_request_ms(app, environ: dict, batches: int, other, other_environ: dict) -> tuple[float, float]:
    """The 10th percentile of the time per request of `app` and of `other`, batches alternated (ms)."""
    times: tuple[list, list] = ([], [])
    for _ in range(batches):
        for timed, (wsgi, env) in zip(times, ((app, environ), (other, other_environ)), strict=True):
            started = time.perf_counter()
            for _ in range(BATCH):
                call(wsgi, env)
            timed.append((time.perf_counter() - started) / BATCH * 1000)
    return tuple(sorted(timed)[len(timed) // 10] for timed in times)


def main() -> int:
    """Each page of bench/pages.py: ours, bare, the difference and the multiple."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=150)
    args = parser.parse_args()
    visitors = prepare(f"sqlite:///{SCRATCH / 'bench.sqlite'}")
    from bench._site import app as site

    print(f"in the process, {args.batches} alternated batches of {BATCH}, 10th percentile (ms per request)\n"
          f"  {'page':<66}{'ours':>8}{'bare':>8}{'extra':>8}{'×':>6}", flush=True)
    for path, cookies, _goal in PAGES:
        headers = visitors[cookies]
        environ = EnvironBuilder(path=path, headers=headers, base_url="http://127.0.0.1:8000").get_environ()
        bare = bare_app(call(site.wsgi_app, environ)).wsgi_app
        for _ in range(50):  # warm both up
            call(site.wsgi_app, environ), call(bare, environ)
        ours, baseline = per_request_ms(site.wsgi_app, environ, args.batches, bare, environ)
        label = page_label(path, cookies)
        print(f"  {label:<66}{ours:>8.3f}{baseline:>8.3f}{ours - baseline:>8.3f}{ours / baseline:>6.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
