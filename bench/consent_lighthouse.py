"""Lighthouse (mobile defaults) on /confidentialite with the consent banner shown and with a choice already made.

Serves the app on loopback from a scratch SQLite database, runs Lighthouse RUNS times per case with Debian's
Chromium, and prints the median largest contentful paint and the four category scores. Fails when the banner
slows LCP by more than 5 %. Reports go to bench/out/.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = "/usr/bin/chromium"
CHROME_FLAGS = ("--headless=new --no-sandbox --disable-gpu --disable-quic --no-first-run "
                "--disable-background-networking --disable-component-update --disable-sync")
RUNS = int(os.environ.get("LIGHTHOUSE_RUNS", "3"))
MAX_LCP_SLOWDOWN = 0.05
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
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with app.test_request_context("/"):
        from datetime import UTC, datetime

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
    """LCP (ms), CLS and the four scores of a report."""
    audits, categories = report["audits"], report["categories"]
    return {
        "lcp": audits["largest-contentful-paint"]["numericValue"],
        "cls": audits["cumulative-layout-shift"]["numericValue"],
        "lcp_element": element_of(audits.get("lcp-breakdown-insight", {})),
        **{name: round(categories[name]["score"] * 100) for name in CATEGORIES},
    }


def element_of(audit: dict) -> str:
    """The LCP element's selector, when Lighthouse names it."""
    for item in audit.get("details", {}).get("items", []):
        if item.get("type") == "node":
            return item.get("selector", "?")
    return "?"


def run_case(url: str, name: str, extra_headers: dict | None = None) -> dict:
    """RUNS runs of one case; the median LCP with the scores of that run."""
    runs = [summary(lighthouse(url, f"lighthouse-{name}-{index}", extra_headers)) for index in range(RUNS)]
    runs.sort(key=lambda run: run["lcp"])
    median = runs[len(runs) // 2]
    return {**median, "lcp_runs": [round(run["lcp"]) for run in runs],
            "lcp_median": statistics.median(run["lcp"] for run in runs)}


def main() -> int:
    """Run both cases, print the table, fail when the banner slows LCP by more than 5 %."""
    assert LIGHTHOUSE.exists(), "lighthouse is missing: run `npm ci`"
    base, cookie = start_site()
    url = f"{base}/confidentialite"
    cases = {
        "banner shown": run_case(url, "banner"),
        "choice made": run_case(url, "choice", {"Cookie": f"kinv_consent={cookie}"}),
    }
    print(f"Lighthouse {RUNS} runs per case, mobile defaults, {url}")
    print(f"{'case':<14}{'LCP ms (median)':>17}{'CLS':>6}  {'perf':>4} {'a11y':>4} {'bp':>4} {'seo':>4}  LCP element")
    for name, case in cases.items():
        print(f"{name:<14}{case['lcp_median']:>17.0f}{case['cls']:>6.3f}  {case['performance']:>4} "
              f"{case['accessibility']:>4} {case['best-practices']:>4} {case['seo']:>4}  {case['lcp_element']}"
              f"  runs {case['lcp_runs']}")
    slowdown = cases["banner shown"]["lcp_median"] / cases["choice made"]["lcp_median"] - 1
    print(f"banner effect on LCP: {slowdown:+.1%} (limit +{MAX_LCP_SLOWDOWN:.0%})")
    return 0 if slowdown <= MAX_LCP_SLOWDOWN else 1


if __name__ == "__main__":
    sys.exit(main())
