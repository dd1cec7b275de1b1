"""What the Lighthouse benchmarks share: the app served on loopback, one Lighthouse run with Debian's Chromium, the
figures of a report, runs of several cases alternated and their table."""

import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = "/usr/bin/chromium"
CHROME_FLAGS = ("--headless=new --no-sandbox --disable-gpu --disable-quic --no-first-run "
                "--disable-background-networking --disable-component-update --disable-sync")
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")


def start_site() -> tuple[str, str]:
    """Serve the app on a free loopback port; return its URL and a refuse-all consent cookie."""
    scratch = Path(tempfile.mkdtemp(prefix="kinv-bench-"))
    os.environ.setdefault("INSTANCE_PATH", str(scratch))
    os.environ["DATABASE_URL"] = f"sqlite:///{scratch / 'bench.sqlite'}"
    sys.path.insert(0, str(ROOT))
    from flask_migrate import upgrade
    from werkzeug.serving import make_server

    from app import create_app
    from app.consent.services import choices_for, current_register
    from app.consent.state import ConsentState, encode
    from app.policy.services import load_first_version

    app = create_app()
    with app.app_context():
        upgrade(revision="heads")
        load_first_version()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with app.test_request_context("/"):
        state = ConsentState("bench-0000", choices_for("refuse_all"), current_register().version,
                             datetime.now(UTC).replace(microsecond=0))
        cookie = encode(state)
    return f"http://127.0.0.1:{server.server_port}", cookie


def lighthouse(url: str, name: str, extra_headers: dict | None = None) -> dict:
    """One Lighthouse run; the parsed report."""
    OUT.mkdir(parents=True, exist_ok=True)
    report = OUT / f"{name}.json"
    command = [str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={report}",
               f"--chrome-flags={CHROME_FLAGS}"]
    if extra_headers:
        command.append(f"--extra-headers={json.dumps(extra_headers)}")
    for attempt in (1, 2):  # Chromium occasionally fails to start; one retry, then the error stands
        result = subprocess.run(command, env={**os.environ, "CHROME_PATH": CHROMIUM}, cwd=ROOT,
                                capture_output=True, text=True, check=False)
        if result.returncode == 0:
            break
        print(f"lighthouse attempt {attempt} failed: {result.stderr.strip()[-400:]}", file=sys.stderr)
    result.check_returncode()
    return json.loads(report.read_text())


def summary(report: dict) -> dict:
    """LCP (ms), CLS, the render-blocking requests and the four scores of a report."""
    audits, categories = report["audits"], report["categories"]
    return {
        "lcp": audits["largest-contentful-paint"]["numericValue"],
        "cls": audits["cumulative-layout-shift"]["numericValue"],
        "lcp_element": element_of(audits.get("lcp-breakdown-insight", {})),
        "blocking": len(audits.get("render-blocking-insight", {}).get("details", {}).get("items", [])),
        **{name: round(categories[name]["score"] * 100) for name in CATEGORIES},
    }


def element_of(audit: dict) -> str:
    """The LCP element's selector, when Lighthouse names it."""
    for item in audit.get("details", {}).get("items", []):
        if item.get("type") == "node":
            return item.get("selector", "?")
    return "?"


def warm_up(url: str, cookie: str) -> None:
    """Request the page a few times with and without the cookie so templates and the database are warm."""
    for headers in ({}, {"Cookie": f"kinv_consent={cookie}"}) * 3:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as response:
            response.read()


def median_case(runs: list[dict]) -> dict:
    """The run with the median LCP, with every run's LCP, the fastest and the lowest score of each category."""
    runs = sorted(runs, key=lambda run: run["lcp"])
    return {**runs[len(runs) // 2], "lcp_runs": [round(run["lcp"]) for run in runs],
            "lcp_median": statistics.median(run["lcp"] for run in runs), "lcp_best": runs[0]["lcp"],
            "lowest": {name: min(run[name] for run in runs) for name in CATEGORIES}}


def run_alternated(cases: dict[str, tuple[str, str, dict | None]], runs: int) -> dict[str, dict]:
    """`runs` Lighthouse runs of each case (URL, report name, extra headers), alternated; the median run of each."""
    found: dict[str, list[dict]] = {name: [] for name in cases}
    for index in range(runs):
        for name, (url, slug, headers) in cases.items():
            found[name].append(summary(lighthouse(url, f"lighthouse-{slug}-{index}", headers)))
    return {name: median_case(reports) for name, reports in found.items()}


def print_cases(cases: dict[str, dict]) -> None:
    """A line a case: LCP median and best, CLS, render-blocking requests, scores, LCP element and every run."""
    print(f"{'case':<14}{'LCP median':>11}{'LCP best':>9}{'CLS':>6}{'blocking':>9}  {'perf':>4} {'a11y':>4} "
          f"{'bp':>4} {'seo':>4}  (median run; lowest over all runs)  LCP element")
    for name, case in cases.items():
        lowest = "/".join(str(case["lowest"][category]) for category in CATEGORIES)
        print(f"{name:<14}{case['lcp_median']:>11.0f}{case['lcp_best']:>9.0f}{case['cls']:>6.3f}{case['blocking']:>9}"
              f"  {case['performance']:>4} {case['accessibility']:>4} {case['best-practices']:>4} {case['seo']:>4}"
              f"  ({lowest})  {case['lcp_element']}  runs {case['lcp_runs']}")
