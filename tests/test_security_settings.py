"""Settings and edges: APP_ENV, secrets, proxies and hosts, rate-limit storage, status links that lapse, GPC."""

import logging
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app import InsecureConfiguration, create_app
from app.config import Config, ProductionConfig, config_for_environment, weak_secret
from app.consent.models import ConsentRecord
from app.database import utcnow
from app.extensions import db, limiter
from tests.conftest import csrf_token
from tests.support.consent import choose
from tests.support.rights import confirmed_request, latest_mail, links, path_of
from tests.test_config import SAFE_PRODUCTION


@pytest.fixture
def production_env(monkeypatch):
    """A complete, safe production environment."""
    for name, value in SAFE_PRODUCTION.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


@pytest.mark.parametrize("value", ["prod", "Production", "PRODUCTION", "staging", ""])
def test_an_unknown_app_env_refuses_to_start(monkeypatch, value):
    monkeypatch.setenv("APP_ENV", value)
    with pytest.raises(InsecureConfiguration, match="APP_ENV"):
        config_for_environment()


@pytest.mark.parametrize(("value", "kind"), [("production", ProductionConfig), ("development", Config)])
def test_known_app_envs(production_env, value, kind):
    production_env.setenv("APP_ENV", value)
    assert type(config_for_environment()) is kind


@pytest.mark.parametrize("value", [
    "a" * 32, "abcd" * 10, "0123456789abcdef" * 3, "change-me-to-a-long-random-value-please",
    "your-secret-key-goes-here-123456789", "é" * 20, "Xy7_" * 9,
])
def test_weak_secrets(value):
    assert weak_secret(value)


def test_a_generated_secret_is_strong(runner):
    result = runner.invoke(args=["secrets", "generate"])
    lines = dict(line.split("=", 1) for line in result.output.splitlines())
    assert set(lines) == {"SECRET_KEY", "HASH_KEY"} and lines["SECRET_KEY"] != lines["HASH_KEY"]
    assert not weak_secret(lines["SECRET_KEY"]) and not weak_secret(lines["HASH_KEY"])


@pytest.mark.parametrize(("variable", "value", "named"), [
    ("SECRET_KEY", "a" * 32, "SECRET_KEY"),
    ("HASH_KEY", SAFE_PRODUCTION["SECRET_KEY"], "HASH_KEY: must differ from SECRET_KEY"),
    ("TRUSTED_HOSTS", "", "TRUSTED_HOSTS"),
    ("WEB_CONCURRENCY", "2", "RATELIMIT_STORAGE_URI: memory:// with 2 workers"),
])
def test_production_refuses(production_env, variable, value, named):
    production_env.setenv(variable, value)
    with pytest.raises(InsecureConfiguration) as error:
        create_app(ProductionConfig())
    assert named in str(error.value)


def test_per_worker_limits_when_asked_or_with_redis(production_env):
    production_env.setenv("GUNICORN_WORKERS", "3")
    production_env.setenv("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/13")
    assert ProductionConfig().problems() == []
    production_env.setenv("RATELIMIT_STORAGE_URI", "memory://")
    production_env.setenv("ALLOW_PER_WORKER_RATELIMITS", "1")
    assert ProductionConfig().problems() == []


def login_attempt(client, address: str):
    """A wrong login from one client address (as the proxy says)."""
    headers = {"X-Forwarded-For": address}
    page = client.get("/admin/connexion", headers=headers).get_data(as_text=True)
    return client.post("/admin/connexion", headers=headers, data={
        "csrf_token": csrf_token(page), "email": "nobody@example.fr", "password": "wrong password"})


def test_behind_a_proxy_each_client_has_its_own_bucket(make_app):
    client = make_app(TRUSTED_PROXY_COUNT=1).test_client()
    assert [login_attempt(client, "203.0.113.10").status_code for _ in range(6)][-1] == 429
    # another network: failed logins are also counted per account and /24, whatever the address in it
    assert login_attempt(client, "198.51.100.11").status_code == 400


def test_behind_a_proxy_consent_proof_keeps_the_clients_prefix(make_app, policy):
    app = make_app(TRUSTED_PROXY_COUNT=1)
    client = app.test_client()
    assert choose(client, "refuse_all", headers={"X-Forwarded-For": "198.51.100.77"}).status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(ConsentRecord.ip_prefix)) == "198.51.100.0/24"


def test_scheme_and_host_from_the_proxy_and_foreign_hosts_refused(make_app):
    app = make_app(TRUSTED_PROXY_COUNT=1, TRUSTED_HOSTS=["www.k-inventory.com"])
    client = app.test_client()
    proxied = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "www.k-inventory.com"}
    response = client.get("/admin/", headers=proxied)
    assert response.status_code == 302
    assert client.get("/admin/", headers={**proxied, "X-Forwarded-Host": "evil.example"}).status_code == 400
    assert client.get("/admin/", headers={"Host": "evil.example"}).status_code == 400


def test_without_redis_the_limiter_falls_back_to_memory_and_the_site_stays_up(make_app, policy, caplog):
    app = make_app(RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/13",
                   RATELIMIT_STORAGE_OPTIONS={"socket_connect_timeout": 1, "socket_timeout": 1})
    client = app.test_client()
    try:
        with caplog.at_level(logging.WARNING):
            assert choose(client, "refuse_all").status_code == 303
            assert login_attempt(client, "127.0.0.1").status_code == 400
        assert any("falling back to in-memory" in record.getMessage() for record in caplog.records)
        assert [login_attempt(client, "127.0.0.1").status_code for _ in range(5)][-1] == 429
    finally:
        limiter._storage_dead = False  # the limiter is one instance for every app of the test run


@pytest.mark.parametrize(("days", "code"), [(364, 200), (366, 400)])
def test_status_links_work_until_a_year_after_closing(app, client, mailbox, days, code):
    request_ = confirmed_request(client, mailbox)
    [status] = links(latest_mail(mailbox, "jeanne@example.fr"), "/demande/")[-1:]
    request_.status, request_.closed_at = "answered", utcnow() - timedelta(days=days)
    db.session.commit()
    response = client.get(path_of(status))
    assert response.status_code == code
    if code == 400:
        assert "Lien expiré" in response.get_data(as_text=True) and "365" in response.get_data(as_text=True)


def test_gpc_support_resource(client):
    response = client.get("/.well-known/gpc.json")
    assert response.json["gpc"] is True and response.json["lastUpdate"]
