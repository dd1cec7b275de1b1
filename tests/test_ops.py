"""Operators' endpoints: /healthz, /readyz (503 when the database is down), /metrics behind a token, JSON logs."""

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.database import utcnow
from app.extensions import db
from app.jobs.models import ScheduledJob
from app.jobs.registry import JOBS
from app.jobs.services import run_due
from app.mail.models import OutboxMessage
from app.mail.services import queue_mail
from tests.conftest import TEST_DATABASE_URL
from tests.support.consent import choose

TOKEN = "a-metrics-token-long-enough-for-production-use"
ROOT = Path(__file__).resolve().parent.parent
SCRAPER = {"Authorization": f"Bearer {TOKEN}"}


def test_healthz_answers_while_the_process_runs(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_readyz_tells_the_public_ready_or_not_and_nothing_else(app, client):
    response = client.get("/readyz")
    assert response.status_code == 200 and response.get_json() == {"status": "ready"}
    assert client.get("/readyz", headers={"Authorization": "Bearer not-the-token"}).get_json() == {"status": "ready"}


def test_readyz_checks_the_database_the_migrations_and_the_outbox(app, client):
    app.config["METRICS_TOKEN"] = TOKEN
    queue_mail("jeanne@example.fr", "Objet", "Texte")
    db.session.execute(sa.update(OutboxMessage).values(created_at=utcnow() - timedelta(hours=2)))
    db.session.commit()
    response = client.get("/readyz", headers=SCRAPER)
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ready"
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["migrations"]["ok"] and body["checks"]["migrations"]["current"]
    outbox = body["checks"]["outbox"]
    assert 7190 < outbox["oldest_pending_seconds"] < 7300 and outbox["ok"] is False  # reported, not fatal
    assert "jeanne" not in response.get_data(as_text=True)
    assert body["checks"]["scheduler"] == {"ok": True, "running": False, "last_job_finished_seconds_ago": None,
                                           "limit": 300}, "no scheduler has run yet: nothing to say"


def test_readyz_reports_the_schedulers_heartbeat(app, client):
    app.config["METRICS_TOKEN"] = TOKEN
    run_due(JOBS)
    scheduler = client.get("/readyz", headers=SCRAPER).get_json()["checks"]["scheduler"]
    assert scheduler["running"] and scheduler["ok"] and scheduler["last_job_finished_seconds_ago"] < 60
    db.session.execute(sa.update(ScheduledJob).values(last_finished_at=utcnow() - timedelta(minutes=10)))
    db.session.commit()
    response = client.get("/readyz", headers=SCRAPER)
    silent = response.get_json()["checks"]["scheduler"]
    assert response.status_code == 200 and silent["ok"] is False and silent["last_job_finished_seconds_ago"] > 590


def test_readyz_is_503_when_the_database_is_down(app, make_app):
    with socket.socket() as closed:  # a port nobody listens on: the database server is down
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    down = make_app(METRICS_TOKEN=TOKEN, SQLALCHEMY_DATABASE_URI=f"postgresql+psycopg://postgres@127.0.0.1:{port}/kinv")
    response = down.test_client().get("/readyz", headers=SCRAPER)
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable" and body["checks"]["database"] == {"ok": False, "error": "OperationalError"}
    assert down.test_client().get("/healthz").status_code == 200


def test_readyz_is_503_when_the_migrations_are_behind(app, make_app, tmp_path):
    behind = make_app(METRICS_TOKEN=TOKEN, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'never-migrated.sqlite'}")
    with behind.app_context():
        db.create_all()  # every table, but no migration recorded
    response = behind.test_client().get("/readyz", headers=SCRAPER)
    assert response.status_code == 503
    assert response.get_json()["checks"]["migrations"]["ok"] is False
    with behind.app_context():
        db.engine.dispose()


@pytest.mark.parametrize(("settings", "headers", "status"), [
    ({}, {}, 403),
    ({"METRICS_TOKEN": TOKEN}, {}, 403),
    ({"METRICS_TOKEN": TOKEN}, {"Authorization": "Bearer not-the-token"}, 403),
    ({"METRICS_TOKEN": TOKEN}, {"Authorization": f"Bearer {TOKEN}"}, 200),
    ({"METRICS_ALLOWED_IPS": "10.0.0.0/8, 127.0.0.1"}, {}, 200),
    ({"METRICS_ALLOWED_IPS": "10.0.0.0/8"}, {}, 403),
])
def test_metrics_need_the_token_or_an_allowed_address(app, make_app, settings, headers, status):
    assert make_app(**settings).test_client().get("/metrics", headers=headers).status_code == status


def sample(text: str, name: str, default: float | None = None, **labels) -> float:
    """The value of one sample of the exposition text (`default` when it is absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))  # as the exposition sorts them
    match = re.search(rf"^{name}{{{re.escape(wanted)}}} ([0-9.e+]+)$", text, re.MULTILINE)
    if match is None and default is not None:
        return default
    assert match, f"{name}{{{wanted}}} not in the metrics"
    return float(match.group(1))


def test_metrics_count_requests_per_endpoint_the_outbox_and_consent_choices(app, make_app, policy):
    site = make_app(METRICS_TOKEN=TOKEN)
    client = site.test_client()
    scrape = {"Authorization": f"Bearer {TOKEN}"}
    shown = {"endpoint": "policy.show", "method": "GET", "status": "200"}
    before = sample(client.get("/metrics", headers=scrape).get_data(as_text=True), "kinv_http_requests_total", 0,
                    **shown)  # the counters live as long as the process: count what this test adds
    for _ in range(3):
        client.get("/confidentialite")
    client.get("/newsletter/desabonnement/tok3n-in-the-url")
    choose(site.test_client(), "accept_all")
    choose(site.test_client(), "refuse_all")
    gpc_browser = site.test_client()
    for _ in range(2):  # GPC is recorded once the browser shows it keeps the consent cookie
        gpc_browser.get("/", headers={"Sec-GPC": "1"})
    with site.app_context():
        queue_mail("jeanne@example.fr", "Objet", "Texte")
        db.session.commit()
    text = client.get("/metrics", headers=scrape).get_data(as_text=True)
    assert sample(text, "kinv_http_requests_total", **shown) - before == 3
    assert sample(text, "kinv_http_request_duration_seconds_count", endpoint="policy.show", method="GET") >= 3
    assert sample(text, "kinv_outbox_messages", status="pending") == 1
    assert sample(text, "kinv_outbox_messages", status="failed") == 0
    assert sample(text, "kinv_consent_choices_last_7_days", category="analytics", answer="accepted") == 1
    assert sample(text, "kinv_consent_choices_last_7_days", category="analytics", answer="refused") == 1
    assert sample(text, "kinv_consent_choices_last_7_days", category="gpc", answer="signal") == 1
    assert 'endpoint="newsletter.unsubscribe"' in text
    assert "tok3n" not in text and "jeanne" not in text


def test_json_logs_one_line_per_request_with_an_id_and_no_token_or_address(app, make_app, app_logger, capsys):
    site = make_app(LOG_FORMAT="json")
    client = site.test_client()
    secret_path = "/newsletter/desabonnement/tok3n-that-must-not-be-logged"
    response = client.get(secret_path + "?email=camille@example.fr", environ_base={"REMOTE_ADDR": "203.0.113.7"})
    given = client.get("/confidentialite", headers={"X-Request-ID": "proxy-id-12345678"})
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line["message"] == "request"]
    assert len(requests) == 2
    first, second = requests
    assert first["route"] == "/newsletter/desabonnement/<token>" and first["status"] == response.status_code
    assert first["request_id"] == response.headers["X-Request-ID"] and len(first["request_id"]) == 32
    assert second["request_id"] == "proxy-id-12345678" == given.headers["X-Request-ID"]
    assert {"time", "level", "method", "endpoint", "duration_ms", "lang"} <= set(first)
    written = json.dumps(lines)
    for secret in ("tok3n", "203.0.113", "camille", "example.fr"):
        assert secret not in written


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
def test_gunicorn_workers_add_up_their_metrics(app, tmp_path):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": TEST_DATABASE_URL, "METRICS_TOKEN": TOKEN,
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus")}
    server = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "--config", "gunicorn.conf.py",
                               "--workers", "3", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=10).close()  # not abandoned: counted before
                break
            except OSError:
                time.sleep(0.1)
        scrape = urllib.request.Request(base + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        before = urllib.request.urlopen(scrape, timeout=5).read().decode()
        for _ in range(30):  # spread by gunicorn over its three workers
            urllib.request.urlopen(base + "/healthz", timeout=5).close()
        after = urllib.request.urlopen(scrape, timeout=5).read().decode()
    finally:
        server.terminate()
        server.wait(timeout=10)
    healthz = {"name": "kinv_http_requests_total", "endpoint": "ops.healthz", "method": "GET", "status": "200"}
    assert sample(after, **healthz) - sample(before, **healthz) == 30
    assert len(list((tmp_path / "prometheus").glob("counter_*.db"))) >= 1


def test_a_method_a_client_makes_up_is_counted_as_other_not_as_a_new_label(make_app, policy):
    client = make_app(METRICS_TOKEN=TOKEN).test_client()
    for method in ("BREW", "WHEN"):
        client.open("/confidentialite", method=method)
    text = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).get_data(as_text=True)
    assert "BREW" not in text and "WHEN" not in text
    assert sample(text, "kinv_http_requests_total", endpoint="unmatched", method="other", status="405") >= 2


def test_the_rate_limiters_fall_back_to_memory_is_logged_once_and_shown_in_the_metrics(make_app, app_logger,
                                                                                      capsys, policy):
    site = make_app(RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0", METRICS_TOKEN=TOKEN, LOG_FORMAT="json",
                    RATELIMIT_STORAGE_OPTIONS={"socket_connect_timeout": 1, "socket_timeout": 1})
    client = site.test_client()
    for _ in range(3):
        assert client.post("/newsletter", data={"email": "x"}).status_code < 500
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    warnings = [line for line in lines if line["logger"] == "flask-limiter"]
    assert [line["level"] for line in warnings] == ["warning"] and "in-memory" in warnings[0]["message"]
    text = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).get_data(as_text=True)
    assert re.search(r"^kinv_ratelimit_in_memory 1\.0$", text, re.MULTILINE)
