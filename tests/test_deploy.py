"""Running anywhere: deploy/Procfile started by honcho serves the site and runs the scheduler; SITE_URL follows the
address the site is served on; the systemd units start the same two processes."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from app.config import Config
from tests.conftest import TEST_DATABASE_URL
from tests.support.smtp import free_port

ROOT = Path(__file__).resolve().parent.parent
PROCFILE = ROOT / "deploy" / "Procfile"
UNITS = ROOT / "deploy" / "systemd"
METRICS_TOKEN = "jeton-de-supervision-de-test"  # /readyz shows its checks to the metrics' scrapers only


def procfile_env(tmp_path: Path, app, port: int) -> Path:
    """An environment file, in .env's format, for the processes honcho starts."""
    settings = {
        "APP_ENV": "development", "DATABASE_URL": TEST_DATABASE_URL, "INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": app.config["SECRET_KEY"], "HASH_KEY": app.config["HASH_KEY"], "WEB_CONCURRENCY": "1",
        "SITE_URL": f"http://127.0.0.1:{port}", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(app.config["MAIL_PORT"]),
        "METRICS_TOKEN": METRICS_TOKEN,
    }
    path = tmp_path / "procfile.env"
    path.write_text("".join(f'{name}="{value}"\n' for name, value in settings.items()))
    return path


def readiness(base: str, honcho: subprocess.Popen, timeout: float = 60) -> dict:
    """Poll /readyz until the web process answers and the scheduler has finished a job; its checks."""
    deadline, checks = time.monotonic() + timeout, {}
    while time.monotonic() < deadline:
        assert honcho.poll() is None, "honcho stopped: a process of the Procfile exited"
        try:
            checks = requests.get(f"{base}/readyz", timeout=5,
                                  headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).json()["checks"]
        except requests.RequestException:
            checks = {}
        if checks.get("scheduler", {}).get("running"):
            return checks
        time.sleep(0.5)
    raise AssertionError(f"the Procfile's processes were not all serving: {checks}")


def stop(process: subprocess.Popen) -> str:
    """Stop honcho and everything it started; what it printed."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    try:
        output, _ = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
    return output


def test_the_procfile_serves_the_site_and_runs_the_scheduler(app, migrated_database, tmp_path):
    port = free_port()
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    for name in ("DATABASE_URL", "SITE_URL", "INSTANCE_PATH", "PROMETHEUS_MULTIPROC_DIR"):
        env.pop(name, None)  # the processes get them from the environment file, as from .env
    honcho = subprocess.Popen(
        [sys.executable, "-m", "honcho", "--no-colour", "-f", str(PROCFILE), "-d", str(ROOT),
         "-e", str(procfile_env(tmp_path, app, port)), "start", "-p", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        checks = readiness(f"http://127.0.0.1:{port}", honcho)
        home = requests.get(f"http://127.0.0.1:{port}/", timeout=10)
    finally:
        output = stop(honcho)
    assert checks["database"]["ok"] and checks["migrations"]["ok"], checks
    assert checks["scheduler"] == {**checks["scheduler"], "ok": True, "running": True}, checks
    assert home.status_code == 200 and "K-Inventory" in home.text
    assert "web.1" in output and "scheduler.1" in output, output


def test_each_systemd_unit_runs_a_process_of_the_procfile():
    procfile = dict(line.split(":", 1) for line in PROCFILE.read_text().splitlines() if line and line[0] != "#")
    units = {unit.stem: unit.read_text() for unit in UNITS.glob("*.service")}
    assert set(units) == {"k-inventory-web", "k-inventory-scheduler"}
    assert "gunicorn --config gunicorn.conf.py" in procfile["web"] and "jobs run" in procfile["scheduler"]
    assert "/.venv/bin/gunicorn --config gunicorn.conf.py wsgi:app" in units["k-inventory-web"]
    assert "/.venv/bin/flask jobs run" in units["k-inventory-scheduler"]
    assert all("WorkingDirectory=" in text and "Restart=" in text for text in units.values())


def test_site_url_follows_the_address_served_unless_set(monkeypatch):
    monkeypatch.delenv("SITE_URL", raising=False)
    monkeypatch.delenv("FLASK_RUN_HOST", raising=False)
    monkeypatch.delenv("FLASK_RUN_PORT", raising=False)
    assert Config().SITE_URL == "http://127.0.0.1:5000"
    monkeypatch.setenv("FLASK_RUN_PORT", "5050")
    assert Config().SITE_URL == "http://127.0.0.1:5050"
    monkeypatch.setenv("FLASK_RUN_HOST", "0.0.0.0")
    assert Config().SITE_URL == "http://127.0.0.1:5050"
    monkeypatch.setenv("FLASK_RUN_HOST", "kinv.test")
    assert Config().SITE_URL == "http://kinv.test:5050"
    monkeypatch.setenv("SITE_URL", "https://www.k-inventory.com/")
    assert Config().SITE_URL == "https://www.k-inventory.com"


def test_make_run_and_serve_pass_host_and_port_on():
    run = subprocess.run(["make", "-n", "run", "HOST=0.0.0.0", "PORT=5050"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    serve = subprocess.run(["make", "-n", "serve", "PORT=9090"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout
    assert "FLASK_RUN_HOST=0.0.0.0 FLASK_RUN_PORT=5050" in run and "flask run" in run
    assert "FLASK_RUN_PORT=9090" in serve and "NGINX_PORT=9090" in serve
