"""`make serve`'s gunicorn.conf.py: a real gunicorn whose logs (access, error, SQL echo) never hold a signed link's
token, an e-mail address or a phone number."""

import contextlib
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import requests

from app.newsletter.links import manage_token
from app.tokens import RIGHTS_STATUS, sign
from tests.conftest import TEST_DATABASE_URL
from tests.test_faults import stopped_database_url

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    """Poll until gunicorn answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "gunicorn stopped"
        try:
            requests.get(url, timeout=5)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise AssertionError("gunicorn did not start")


@contextlib.contextmanager
def gunicorn(app, tmp_path: Path, **settings: str):
    """A real gunicorn serving the site (one worker), its access and error logs and its output under tmp_path; the
    base URL."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": TEST_DATABASE_URL.replace("+psycopg", ""),
           "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_ACCESS_LOG": str(tmp_path / "access.log"),
           "GUNICORN_ERROR_LOG": str(tmp_path / "error.log"), "WEB_CONCURRENCY": "1",
           "SECRET_KEY": app.config["SECRET_KEY"], "HASH_KEY": app.config["HASH_KEY"], "APP_ENV": "development",
           **settings}
    with (tmp_path / "output.log").open("a") as output:
        process = subprocess.Popen([sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "wsgi:app"],
                                   cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_up(base + "/", process)
            yield base
        finally:
            process.terminate()
            process.wait(timeout=20)


def logs(tmp_path: Path) -> str:
    """Everything the runs wrote: access log, error log, standard output and error."""
    return "\n".join(path.read_text() for path in sorted(tmp_path.glob("*.log")))


def test_access_log_lines_carry_no_token(app, migrated_database, tmp_path):
    token = sign(RIGHTS_STATUS, "a-public-id-of-a-request")
    with gunicorn(app, tmp_path) as base:
        assert requests.get(f"{base}/demande/{token}?t={token}", timeout=10,
                            headers={"Referer": f"{base}/newsletter/preferences/{token}"}).status_code in (200, 404)
    lines = (tmp_path / "access.log").read_text().splitlines()
    assert any("/demande/[token]?t=[token]" in line for line in lines), lines
    assert token not in logs(tmp_path) and token.split(".")[0] not in logs(tmp_path)


def test_no_log_line_of_a_real_run_holds_a_token_an_address_or_a_number(app, migrated_database, policy, tmp_path):
    token = sign(RIGHTS_STATUS, "a-public-id-of-a-request")
    link = manage_token(uuid.uuid4().hex, "actualites-produit")
    email, phone, national = "camille.martin@example.fr", "+33612345678", "06 12 34 56 78"
    with gunicorn(app, tmp_path, SQLALCHEMY_ECHO="1") as base:
        requests.get(f"{base}/demande/{token}?t={token}&email={quote(email)}&tel={quote(phone)}", timeout=10,
                     headers={"Referer": f"{base}/newsletter/preferences/{token}"})
        requests.post(f"{base}/newsletter", timeout=10, data={
            "form": "subscribe", "email": email, "phone": national, "lists": "actualites-produit", "consent": "y"})
        requests.post(f"{base}/newsletter/desabonnement/{link}", data={"List-Unsubscribe": "One-Click"}, timeout=10)
    with gunicorn(app, tmp_path, DATABASE_URL=stopped_database_url().replace("+psycopg", "")) as base:
        assert requests.post(f"{base}/newsletter/desabonnement/{link}", data={"List-Unsubscribe": "One-Click"},
                             timeout=10).status_code == 503
        requests.get(f"{base}/demande/{token}?email={quote(email)}", timeout=10)
    written = logs(tmp_path)
    assert "INSERT INTO newsletter_subscribers" in written, "SQL echo was on"
    assert "POST /newsletter/desabonnement/[token] answered 503" in written, "the error log names the route"
    for secret in (token, token.split(".")[0], link, link.split(".")[0], email, quote(email), "camille", phone,
                   phone[1:], national, "0612345678"):
        assert secret not in written, secret
