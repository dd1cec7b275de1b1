"""`flask cookies scan`: the site in Chromium in every consent state, compared with the cookie register."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.consent.services import current_register
from app.mail.models import OutboxMessage
from app.scanner.browser import Observation
from app.scanner.services import compare, last_scan
from tests.support.rights import staff_client
from tests.support.screenshots import pictures_folder
from tests.test_dashboard import log_in_to

PLANTED = b"""<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Produit</title></head>
<body><h1>Produit</h1><img src="https://pixel.tracker.example/p.gif" alt=""></body></html>"""


class PlantedPage(BaseHTTPRequestHandler):
    """A product page someone pasted a pixel into: an undeclared cookie, an undeclared host."""

    def do_GET(self):  # noqa: N802 (the standard library's name)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Set-Cookie", "_pixel_id=abc; Max-Age=63072000; Path=/")
        self.end_headers()
        self.wfile.write(PLANTED)

    def log_message(self, *args):
        """Quiet."""


@pytest.fixture
def planted_page():
    """The page, served on loopback (the same host as the site: its cookie is the site's)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), PlantedPage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/produit"
    server.shutdown()
    server.server_close()


def scan(runner, *args):
    """Run the command; its JSON report and exit code."""
    result = runner.invoke(args=["cookies", "scan", "--json", *args])
    assert result.output.startswith("{"), (result.output, result.exception)
    return json.loads(result.output), result.exit_code


@pytest.mark.browser
def test_the_scan_reports_what_a_planted_page_sets_and_calls_and_tells_the_dpo_once(app, live_server, planted_page,
                                                                                    runner, browser):
    staff_client(app, "dpo")
    report, code = scan(runner, "--url", planted_page, "--pages", "1")
    found = {(f["kind"], f["subject"]) for f in report["findings"]}
    assert code == 1
    assert ("undeclared_cookie", "_pixel_id") in found and ("undeclared_host", "pixel.tracker.example") in found
    assert ("lifetime", "_pixel_id") not in found  # undeclared, so no declared lifetime to compare with
    assert set(report["states"]) == {"no_choice", "refused", "accepted", "only_analytics", "only_advertising",
                                     "only_affiliation"}
    cookie = next(c for c in report["states"]["no_choice"]["cookies"] if c["name"] == "_pixel_id")
    assert cookie["path"] == "/" and cookie["httpOnly"] is False
    assert cookie["expires_in"] > 390 * 86_400  # two years asked, Chromium keeps 400 days
    assert last_scan().findings == len(report["findings"]) and all(f["new"] for f in report["findings"])
    mails = OutboxMessage.query.filter_by(recipient="dpo@k-inventory.com").all()
    assert len(mails) == 1 and "_pixel_id" in mails[0].body_text
    again, _code = scan(runner, "--url", planted_page, "--pages", "1")
    assert not any(f["new"] for f in again["findings"])
    assert OutboxMessage.query.filter_by(recipient="dpo@k-inventory.com").count() == 1
    context, page = log_in_to(browser, live_server, "/admin/tableau-de-bord")
    section = page.locator("#analyse-cookies")
    assert "_pixel_id" in section.inner_text() and "pixel.tracker.example" in section.inner_text()
    page.evaluate("document.getElementById('cc').remove()")  # the cookie banner out of the documentation's picture
    section.screenshot(path=str(pictures_folder() / "cookie-scan.png"))
    context.close()


@pytest.mark.browser
def test_the_site_itself_scans_clean(live_server, runner):
    result = runner.invoke(args=["cookies", "scan", "--url", live_server.url + "/", "--pages", "6"])
    assert result.exit_code == 0, result.output
    assert "0 finding(s)" in result.output and "accepted: 6 pages" in result.output


def seen_in(state: str, cookies=(), hosts=()) -> Observation:
    """What a consent state left: cookies as (name, days to live), hosts requested."""
    return Observation(state, pages=["/"], hosts=set(hosts), cookies=[
        {"name": name, "domain": "127.0.0.1", "path": "/", "expires_in": days * 86_400 if days else None,
         "httpOnly": False, "secure": False, "sameSite": "Lax"} for name, days in cookies])


ACCEPTED = {"no_choice": None, "refused": frozenset(), "accepted": frozenset({"analytics", "advertising"}),
            "only_analytics": frozenset({"analytics"}), "only_advertising": frozenset({"advertising"})}


@pytest.mark.parametrize("seen, expected", [
    (seen_in("no_choice", cookies=[("_ga", 395)]), [("before_consent", "_ga")]),
    (seen_in("refused", hosts=["connect.facebook.net"]), [("after_refusal", "connect.facebook.net")]),
    (seen_in("only_analytics", cookies=[("_fbp", 90)]), [("not_chosen", "_fbp")]),
    (seen_in("only_advertising", hosts=["www.googletagmanager.com"]), []),  # gtag.js serves Google Ads too
    (seen_in("accepted", cookies=[("_ga", 396 + 2)]), [("lifetime", "_ga")]),
    (seen_in("accepted", cookies=[("_ga", 396 + 1), ("kinv_consent", 180), ("session", 0)]), []),
    (seen_in("accepted", cookies=[("_pixel_id", 30)], hosts=["pixel.tracker.example"]),
     [("undeclared_cookie", "_pixel_id"), ("undeclared_host", "pixel.tracker.example")]),
])
def test_what_the_browser_saw_is_compared_with_the_register(app, seen, expected):
    assert [(f.kind, f.subject) for f in compare(current_register(), [seen], ACCEPTED)] == expected


def test_a_finding_seen_in_several_states_is_reported_once_with_each_state(app):
    found = compare(current_register(), [seen_in("no_choice", cookies=[("_fbp", 90)]),
                                         seen_in("refused", cookies=[("_fbp", 90)])], ACCEPTED)
    assert [(f.kind, f.states) for f in found] == [("after_refusal", ("refused",)),
                                                  ("before_consent", ("no_choice",))]


def test_the_weekly_scan_runs_on_the_day_and_time_scan_schedule_names(app):
    from datetime import UTC, datetime

    from app.jobs.registry import JOBS

    job = next(job for job in JOBS if job.name == "cookie-scan")
    app.config["SCAN_SCHEDULE"] = "mon 04:00"
    # Sunday 6 December 2026: next Monday 04:00 in Paris is 03:00 UTC
    assert job.when.next_after(datetime(2026, 12, 6, 12, 0, tzinfo=UTC)) == datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
    assert job.when.next_after(datetime(2026, 12, 7, 3, 0, tzinfo=UTC)) == datetime(2026, 12, 14, 3, 0, tzinfo=UTC)


def test_the_dashboard_shows_the_last_scan_its_findings_and_the_trend(app):
    from datetime import UTC, datetime, timedelta

    from app.extensions import db
    from app.scanner.models import CookieScan

    moment = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
    finding = {"kind": "undeclared_cookie", "subject": "_pixel_id", "states": ["no_choice"], "detail": "",
               "key": "undeclared_cookie:_pixel_id", "new": True}
    for weeks, findings in ((1, []), (0, [finding])):
        db.session.add(CookieScan(started_at=moment - timedelta(weeks=weeks), finished_at=moment, findings=len(
            findings), report={"urls": ["https://www.k-inventory.com/"], "register_version": "x",
                               "states": {"no_choice": {"pages": ["/"] * 5}}, "findings": findings}))
    db.session.commit()
    html = staff_client(app, "dpo").get("/admin/tableau-de-bord").get_data(as_text=True)
    assert "Dernière analyse le" in html and "1 constat(s)" in html and "_pixel_id" in html
    assert "Cookie non déclaré" in html and "<td>sans choix</td>" in html and html.count("<td>5</td>") == 2


def test_a_scan_without_its_browser_says_what_to_install_and_keeps_nothing(app, runner, monkeypatch):
    monkeypatch.setitem(app.config, "SCAN_CHROMIUM", "/nonexistent/chromium")
    result = runner.invoke(args=["cookies", "scan", "--pages", "1"])
    assert result.exit_code == 1 and "install Debian's chromium package or set SCAN_CHROMIUM" in result.output
    assert last_scan() is None
