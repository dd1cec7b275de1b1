"""Benchmark: pages under gunicorn (2 sync workers) beside a bare Flask app serving the same bytes, and the consent
choice at 50 concurrent visitors, on SQLite and on PostgreSQL. Loopback only, every run bounded by `wrk -d`.

Each page: its bytes are fetched once from the site, a bare Flask app (bench/_bare.py) serves them from memory under
the same gunicorn; `wrk -t2 -c16 -dDURATION` runs against the site, then the bare app, ROUNDS times alternated;
medians are printed with their ratio and the issue's goal. The consent choice: `wrk -t2 -c50 --latency` with
bench/consent_choice.lua (GET / for the banner's token, then POST the choice, visitor after visitor). Each database
is a scratch one (bench/_scratch.py: a SQLite file, a schema of its own in BENCH_POSTGRESQL_URL's database, dropped
afterwards). wrk is Debian's package (`make bench` installs it when missing).
Usage: `.venv/bin/python bench/pages.py [--duration 10] [--rounds 3] [--database sqlite|postgresql]
[--only pages|consent]`.
"""

import argparse
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
SCRATCH = Path(tempfile.mkdtemp(prefix="kinv-bench-pages-"))
sys.path.insert(0, str(ROOT))

from bench._scratch import run_on_each_database  # noqa: E402  (after the path is set)

# Both apps run under the project's gunicorn.conf.py (the same logger, token redaction included); the access
# lines are written to /dev/null rather than over the figures.
ENV = {**os.environ, "INSTANCE_PATH": str(SCRATCH), "SECRET_KEY": secrets.token_urlsafe(48),
       "HASH_KEY": secrets.token_urlsafe(48), "PYTHONPATH": str(ROOT), "GUNICORN_ACCESS_LOG": "/dev/null"}
# page, the visitor (which cookies they send), goal (ratio to the bare app serving the same bytes)
PATHS = ("/confidentialite", "/", "/cookies", "/contact", "/newsletter", "/en/privacy")
PAGES = [(path, visitor, 0.4) for path in PATHS for visitor in ("", "refused", "accepted+tags")] + [
    ("/confidentialite", "session", 0.4)]
LABELS = {"": ", no choice (banner)", "refused": ", all refused",
          "accepted+tags": ", all accepted, with _ga and _gcl_au", "session": ", with a session (after a form)"}
CONSENT_P99_GOAL_MS = 250


def free_port() -> int:
    """A loopback TCP port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(url: str) -> dict[str, dict[str, str]]:
    """Migrate the database and publish the policy; the headers of each kind of visitor in PAGES (the cookies a
    choice leaves, the tags' own cookies, a session as a form sent without JavaScript leaves it)."""
    os.environ.update(ENV)
    os.environ["DATABASE_URL"] = url
    sys.path.insert(0, str(ROOT))
    from flask_migrate import upgrade

    from app import create_app
    from app.consent.register import CONSENT_COOKIE, REGISTER, VARIANT_COOKIE
    from app.consent.services import choices_for, current_register
    from app.consent.state import ConsentState, encode, variant_value
    from app.extensions import db
    from app.policy.services import load_first_version

    app = create_app()
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"), revision="heads")
        load_first_version()
        db.engine.dispose()
    cookies = {}
    with app.test_request_context("/"):
        for action in ("refuse_all", "accept_all"):
            state = ConsentState(f"bench-{action}", choices_for(action), current_register().version,
                                 datetime.now(UTC).replace(microsecond=0))
            cookies[action] = f"{CONSENT_COOKIE}={encode(state)}; {VARIANT_COOKIE}={variant_value(state)}"
    # what a session holds once its message was shown (here: the GPC signal recorded for this register)
    visit = app.session_interface.get_signing_serializer(app).dumps({"gpc_recorded": REGISTER.version})
    return {"": {}, "refused": {"Cookie": cookies["refuse_all"]},
            "accepted+tags": {"Cookie": f"_ga=GA1.1.123.456; _gcl_au=1.1.789; {cookies['accept_all']}"},
            "session": {"Cookie": f"{cookies['refuse_all']}; {app.config['SESSION_COOKIE_NAME']}={visit}"}}


class Gunicorn:
    """A gunicorn with 2 sync workers on a free loopback port, stopped on exit."""

    def __init__(self, module: str, **env: str) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [str(GUNICORN), "--workers", "2", "--bind", f"127.0.0.1:{self.port}", "--log-level", "warning", module],
            cwd=ROOT, env={**ENV, **env})
        self.url = f"http://127.0.0.1:{self.port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(self.url + "/robots.txt", timeout=2)
                return
            except urllib.error.HTTPError:
                return  # it answers
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"gunicorn {module} did not start")

    def __enter__(self) -> "Gunicorn":
        return self

    def __exit__(self, *_exc) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def wrk(url: str, duration: int, connections: int = 16, headers: dict | None = None, script: Path | None = None,
        latency: bool = False) -> str:
    """wrk's report (bounded by its duration)."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script:
        command += ["-s", str(script)]
    if latency:
        command.append("--latency")
    result = subprocess.run([*command, url], capture_output=True, text=True, check=True, timeout=duration + 60)
    return result.stdout


def requests_per_second(report: str) -> float:
    """The Requests/sec line of a wrk report."""
    return float(re.search(r"Requests/sec:\s+([\d.]+)", report).group(1))


def fetch(url: str, headers: dict) -> bytes:
    """A page's bytes as the site sends them."""
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as response:
        return response.read()


def bench_pages(site: Gunicorn, visitors: dict, duration: int, rounds: int) -> list[tuple]:
    """Each page against its bare twin, alternated; the medians."""
    rows = []
    for path, cookies, goal in PAGES:
        headers = visitors[cookies]
        body = SCRATCH / "body.html"
        body.write_bytes(fetch(site.url + path, headers))
        ours, bare = [], []
        with Gunicorn("bench._bare:app", BENCH_BODY=str(body)) as twin:
            for _ in range(rounds):
                ours.append(requests_per_second(wrk(site.url + path, duration, headers=headers)))
                bare.append(requests_per_second(wrk(twin.url + path, duration, headers=headers)))
        label = page_label(path, cookies)
        ours_median, bare_median = statistics.median(ours), statistics.median(bare)
        rows.append((label, ours_median, bare_median, ours_median / bare_median, goal))
        print(f"  {label:<66}{ours_median:>9,.0f}{bare_median:>9,.0f}{ours_median / bare_median:>7.2f}  "
              f"(goal {goal or '—'})", flush=True)
    return rows


def page_label(path: str, cookies: str) -> str:
    """A page and its visitor as the tables of docs/benchmarks.md name them."""
    return f"`{path}`" + LABELS[cookies]


def bench_consent(site: Gunicorn, duration: int) -> float:
    """p99 latency (ms) of the consent choice flow at 50 concurrent visitors; fails on errors."""
    report = wrk(site.url, duration, connections=50, script=BENCH / "consent_choice.lua", latency=True)
    assert "Non-2xx or 3xx" not in report, report
    recorded = int(re.search(r"choices recorded: (\d+)", report).group(1))
    assert recorded > 0, report  # the flow really posts choices, not only pages
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", report).groups()
    p99 = float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
    rate = requests_per_second(report)
    print(f"  consent choice, 50 visitors: p99 {p99:,.0f} ms over GETs and POSTs ({rate:,.0f} requests/s, "
          f"{recorded:,} choices recorded)", flush=True)
    return p99


def run(name: str, url: str, args) -> bool:
    """The pages and the consent choice on one database."""
    visitors = prepare(url)
    ok = True
    with Gunicorn("bench._site:app", DATABASE_URL=url) as site:
        print(f"{name}: wrk -t2 -c16 -d{args.duration}s, gunicorn 2 sync workers, {args.rounds} rounds alternated, "
              f"medians\n  {'page':<66}{'ours':>9}{'bare':>9}{'ratio':>7}", flush=True)
        if args.only in (None, "pages"):
            rows = bench_pages(site, visitors, args.duration, args.rounds)
            ok = all(goal is None or ratio >= goal for *_rest, ratio, goal in rows)
        if args.only in (None, "consent"):
            ok = bench_consent(site, args.duration) <= CONSENT_P99_GOAL_MS and ok
    return ok


def main() -> int:
    """SQLite, then PostgreSQL (or the one asked for); fail when a goal is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], help="one database only")
    parser.add_argument("--only", choices=["pages", "consent"])
    args = parser.parse_args()
    assert shutil.which("wrk"), "wrk is missing: apt-get install wrk (make bench does)"
    return 0 if run_on_each_database("pages", args.database, lambda name, url: run(name, url, args)) else 1


if __name__ == "__main__":
    sys.exit(main())
