"""Lighthouse (mobile defaults) LCP of /confidentialite beside its static twin: the same page's HTML as the site
sends it (a consent choice made), every linked stylesheet's content inlined in a <style>, served as a plain file.

Serves the app on loopback from a scratch SQLite database and the twin from a loopback `http.server`, then runs
Lighthouse RUNS times per case with Debian's Chromium, alternating the site with the banner shown, the site with a
choice made and the twin, so that the machine's load weighs on all alike. Prints each case's median and best LCP and
the ratio of the site's medians to the twin's; fails when either is over 1.1.
Reports go to bench/out/. Usage: `.venv/bin/python bench/policy_lighthouse.py [--runs 3]`.
"""

import argparse
import functools
import re
import sys
import tempfile
import threading
import urllib.request
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from _lighthouse import LIGHTHOUSE, print_cases, run_alternated, start_site, warm_up

MAX_RATIO = 1.1
STYLESHEET = re.compile(r'<link rel="stylesheet" href="([^"]+)">')
EXTERNAL = re.compile(r'<link rel="stylesheet"|\ssrc="')  # what would make the twin request anything but itself


def fetched(url: str, headers: dict | None = None) -> str:
    """The text the site answers at `url`."""
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {})) as response:
        return response.read().decode()


def static_twin(base: str, html: str) -> str:
    """The page with each linked stylesheet's content in a <style> in its place; nothing external left."""
    twin = STYLESHEET.sub(lambda link: f"<style>{fetched(base + link.group(1))}</style>", html)
    assert not EXTERNAL.search(twin), "the static twin would still request something"
    return twin


class QuietHandler(SimpleHTTPRequestHandler):
    """Plain files over HTTP/1.1 (as the site answers), without a log line a request."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *_args) -> None:
        """Nothing: the bench prints its own figures."""


def serve_twin(page: str) -> str:
    """Write the twin to a scratch folder and serve it on a free loopback port; its URL."""
    folder = Path(tempfile.mkdtemp(prefix="kinv-bench-twin-"))
    (folder / "confidentialite.html").write_text(page, encoding="utf-8")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}/confidentialite.html"


def main() -> int:
    """Run the three cases, print the table and the ratios, fail when the site's LCP is over 1.1× the twin's."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs per case (default 3)")
    runs = parser.parse_args().runs
    assert LIGHTHOUSE.exists(), "lighthouse is missing: run `npm ci`"
    base, cookie = start_site()
    url, chosen = f"{base}/confidentialite", {"Cookie": f"kinv_consent={cookie}"}
    warm_up(url, cookie)
    twin = serve_twin(static_twin(base, fetched(url, chosen)))
    cases = run_alternated({"banner shown": (url, "policy-banner", None), "choice made": (url, "policy-choice", chosen),
                            "static twin": (twin, "policy-twin", None)}, runs)
    print(f"Lighthouse {runs} runs per case (alternated), mobile defaults, {url} and its static twin")
    print_cases(cases)
    ratios = {name: cases[name]["lcp_median"] / cases["static twin"]["lcp_median"]
              for name in ("banner shown", "choice made")}
    print("LCP median / static twin's: " + ", ".join(f"{name} {ratio:.2f}×" for name, ratio in ratios.items())
          + f" (limit {MAX_RATIO}×)")
    return 0 if max(ratios.values()) <= MAX_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
