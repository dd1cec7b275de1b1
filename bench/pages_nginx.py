"""Benchmark: each cacheable page through the shipped nginx configuration (deploy/nginx.conf, answered from its
cache) beside the same nginx serving the same bytes as a static file, for a visitor without a choice and for one with
a consent variant (`kinv_page`, from a real accept-all choice).

gunicorn (2 sync workers, bench/_site.py, one trusted proxy) on a scratch database (bench/_scratch.py); Debian's
nginx started as tests/test_nginx.py starts it, with a second server of its own serving each page's body from a
file. `wrk -t2 -c16 -dDURATION` against the cached page, then its static twin, ROUNDS times alternated; medians and
their ratio are printed, with nginx's own CPU time a request for each (its workers' user and system time over
wrk's request count: a figure the machine's other load hardly moves); fails when a page is not answered from the
cache or a ratio is under 0.9. The pages stay
cached for the app's PAGE_CACHE_SECONDS (5 s by default), so each run includes the page's renewals.
Usage: `.venv/bin/python bench/pages_nginx.py [--duration 10] [--rounds 3] [--database sqlite|postgresql]
[--page /cookies …]`.
"""

import argparse
import http.client
import os
import re
import shutil
import statistics
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._scratch import run_on_each_database  # noqa: E402  (after the path is set)
from bench.pages import SCRATCH, Gunicorn, prepare, requests_per_second, wrk  # noqa: E402
from tests.support.nginx import Nginx, free_port  # noqa: E402

PAGES = ["/", "/en/", "/confidentialite", "/en/privacy", "/confidentialite/versions", "/confidentialite/versions/1",
         "/cookies", "/en/cookies", "/newsletter", "/en/newsletter", "/contact", "/en/contact"]
GOAL = 0.9
# The static twin: a server of the same nginx answering each page's saved body from a file.
TWIN_SERVER = """
    server {{
        listen 127.0.0.1:{port};
        root {folder};
        default_type text/html;
    }}
"""


def chosen_variant(port: int) -> str:
    """The `kinv_page` cookie a visitor gets by pressing the banner's accept-all button (through nginx)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("POST", "/cookies/choix", body="choice=accept_all&next=/",
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    cookies = [value.split(";")[0] for name, value in connection.getresponse().getheaders()
               if name.lower() == "set-cookie"]
    connection.close()
    return next(cookie for cookie in cookies if cookie.startswith("kinv_page="))


def cached_body(url: str, headers: dict) -> bytes | None:
    """The page's bytes as nginx's cache serves them, or None when its second request is not a cache hit."""
    for _ in range(2):
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as response:
            body, status = response.read(), response.headers.get("X-Cache-Status")
    return body if status == "HIT" else None


def workers_cpu_seconds(nginx: Nginx) -> float:
    """The CPU time (user and system) nginx's worker processes have used so far."""
    ticks = 0
    for child in Path(f"/proc/{nginx.process.pid}/task/{nginx.process.pid}/children").read_text().split():
        fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime and stime, fields 14 and 15 of proc(5)
    return ticks / os.sysconf("SC_CLK_TCK")


def measured(nginx: Nginx, url: str, duration: int, headers: dict) -> tuple[float, float]:
    """wrk's requests per second (every answer a 200) and nginx's CPU microseconds a request."""
    before = workers_cpu_seconds(nginx)
    report = wrk(url, duration, headers=headers)
    used = workers_cpu_seconds(nginx) - before
    assert "Non-2xx or 3xx" not in report, report
    count = int(re.search(r"(\d+) requests in", report).group(1))
    return requests_per_second(report), used * 1e6 / count


def bench_page(nginx: Nginx, twin: tuple[Path, int], path: str, headers: dict, args) -> tuple | None:
    """The page from nginx's cache against its static twin, alternated: the medians of requests per second and of
    nginx's CPU microseconds a request (None: the page is not cached)."""
    body = cached_body(nginx.url + path, headers)
    if body is None:
        return None
    folder, port = twin
    saved = folder / f"page{len(list(folder.iterdir()))}.html"
    saved.write_bytes(body)
    cached, static = [], []
    for _ in range(args.rounds):
        cached.append(measured(nginx, nginx.url + path, args.duration, headers))
        static.append(measured(nginx, f"http://127.0.0.1:{port}/{saved.name}", args.duration, headers))
    return tuple(statistics.median(run[i] for run in runs) for runs in (cached, static) for i in (0, 1))


def print_row(label: str, medians: tuple | None) -> bool:
    """One line of the table; whether the page meets the goal."""
    if medians is None:
        print(f"  {label:<52}  not answered from the cache", flush=True)
        return False
    cached, cached_cpu, static, static_cpu = medians
    print(f"  {label:<52}{cached:>9,.0f}{static:>9,.0f}{cached / static:>7.2f}{cached_cpu:>9.1f}{static_cpu:>9.1f}",
          flush=True)
    return cached / static >= GOAL


def run(name: str, url: str, args) -> bool:
    """Every page and visitor on one database."""
    prepare(url)
    folder = SCRATCH / "twin"
    folder.mkdir(exist_ok=True)
    port = free_port()
    with Gunicorn("bench._site:app", DATABASE_URL=url, TRUSTED_PROXY_COUNT="1") as site:
        nginx = Nginx(SCRATCH / "nginx", f"127.0.0.1:{site.port}", "127.0.0.1",
                      TWIN_SERVER.format(port=port, folder=folder)).start()
        try:
            visitors = {"no choice": {}, "variant": {"Cookie": chosen_variant(nginx.port)}}
            print(f"{name}: wrk -t2 -c16 -d{args.duration}s, nginx cache vs the same nginx serving the bytes as a "
                  f"file, {args.rounds} rounds alternated, medians (goal: ratio >= {GOAL})\n"
                  f"  {'page, visitor':<52}{'cached':>9}{'static':>9}{'ratio':>7}{'µs/req':>9}{'µs/req':>9}"
                  f"  (nginx's CPU a request: cached, static)", flush=True)
            met = [print_row(f"`{path}`, {visitor}", bench_page(nginx, (folder, port), path, headers, args))
                   for path in args.page or PAGES for visitor, headers in visitors.items()]  # every row printed
            return all(met)
        finally:
            nginx.stop()


def main() -> int:
    """SQLite by default (the pages come from nginx's cache), or PostgreSQL; fail when a goal is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--page", action="append", help="a page of PAGES to measure (repeatable; default: all)")
    args = parser.parse_args()
    assert shutil.which("wrk"), "wrk is missing: apt-get install wrk (make bench does)"
    return 0 if run_on_each_database("pages_nginx", args.database, lambda name, url: run(name, url, args)) else 1


if __name__ == "__main__":
    sys.exit(main())
