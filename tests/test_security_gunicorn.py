"""`make serve`'s gunicorn.conf.py: a real gunicorn whose access log never holds a signed link's token."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from app.tokens import RIGHTS_STATUS, sign
from tests.conftest import TEST_DATABASE_URL

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


def test_access_log_lines_carry_no_token(app, migrated_database, tmp_path):
    token = sign(RIGHTS_STATUS, "a-public-id-of-a-request")
    port, log = free_port(), tmp_path / "access.log"
    env = {**os.environ, "DATABASE_URL": TEST_DATABASE_URL.replace("+psycopg", ""),
           "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_ACCESS_LOG": str(log),
           "WEB_CONCURRENCY": "1", "SECRET_KEY": app.config["SECRET_KEY"],
           "HASH_KEY": app.config["HASH_KEY"], "APP_ENV": "development"}
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "wsgi:app"],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base + "/", process)
        assert requests.get(f"{base}/demande/{token}?t={token}", timeout=10,
                            headers={"Referer": f"{base}/newsletter/preferences/{token}"}).status_code in (200, 404)
    finally:
        process.terminate()
        process.wait(timeout=20)
    lines = log.read_text().splitlines()
    assert any("/demande/[token]?t=[token]" in line for line in lines), lines
    assert token not in log.read_text() and token.split(".")[0] not in log.read_text()
