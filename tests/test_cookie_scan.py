"""`flask cookies scan`: the site in Chromium in every consent state, compared with the cookie register."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.auth.services import create_staff
from app.mail.models import OutboxMessage
from app.scanner.services import last_scan

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
                                                                                    runner):
    create_staff("dpo@k-inventory.com", "mot de passe très long 2026", "dpo")
    report, code = scan(runner, "--url", planted_page, "--pages", "1")
    found = {(f["kind"], f["subject"]) for f in report["findings"]}
    assert code == 1
    assert ("undeclared_cookie", "_pixel_id") in found and ("undeclared_host", "pixel.tracker.example") in found
    assert ("lifetime", "_pixel_id") not in found  # undeclared, so no declared lifetime to compare with
    assert set(report["states"]) == {"no_choice", "refused", "accepted", "only_analytics", "only_advertising",
                                     "only_affiliation"}
    cookie = next(c for c in report["states"]["no_choice"]["cookies"] if c["name"] == "_pixel_id")
    assert cookie["path"] == "/" and cookie["httpOnly"] is False and cookie["expires_in"] > 390 * 86_400  # Chromium caps a cookie at 400 days
    assert last_scan().findings == len(report["findings"]) and all(f["new"] for f in report["findings"])
    mails = OutboxMessage.query.filter_by(recipient="dpo@k-inventory.com").all()
    assert len(mails) == 1 and "_pixel_id" in mails[0].body_text
    again, _code = scan(runner, "--url", planted_page, "--pages", "1")
    assert not any(f["new"] for f in again["findings"])
    assert OutboxMessage.query.filter_by(recipient="dpo@k-inventory.com").count() == 1


@pytest.mark.browser
def test_the_site_itself_scans_clean(live_server, runner):
    result = runner.invoke(args=["cookies", "scan", "--url", live_server.url + "/", "--pages", "6"])
    assert result.exit_code == 0, result.output
    assert "0 finding(s)" in result.output and "accepted: 6 pages" in result.output
