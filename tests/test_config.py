"""Settings: development generates what it needs; production refuses unsafe settings."""

import pytest

from app import InsecureConfiguration, create_app
from app.config import Config, ProductionConfig

SAFE_PRODUCTION = {
    "APP_ENV": "production",
    "SECRET_KEY": "pX3v9QkLw2Rz_T8bN5yHc1JmA7dF4gKs6EuVq0WiZo-",
    "HASH_KEY": "Lm8Qz2Wx_Rk5Tn1Vb7Yc3Hj9Pf4Ds6Ga0Ue-KoXiBwNq",
    "DATABASE_URL": "postgresql://db.internal/kinv",
    "MAIL_SERVER": "smtp.internal",
    "MAIL_DEFAULT_SENDER": "K-Inventory <no-reply@k-inventory.com>",
    "SITE_URL": "https://www.k-inventory.com",
    "RECAPTCHA_SITE_KEY": "site-key",
    "RECAPTCHA_SECRET_KEY": "secret-key",
    "SMS_WEBHOOK_SECRET": "3f9a1c7e5b2d4086af1e9c3b7d5a2e8f",
    "TRUSTED_HOSTS": "www.k-inventory.com",
    "DKIM_SIGNING": "relay",
    "MAIL_USE_TLS": "1",
}


@pytest.fixture
def production_env(monkeypatch):
    """A complete, safe production environment that tests then break one variable at a time."""
    for name, value in SAFE_PRODUCTION.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def test_development_generates_and_keeps_the_secret_key(monkeypatch, tmp_path):
    import app.config as config_module

    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setattr(config_module, "INSTANCE_DIR", tmp_path)
    first, second = Config(), Config()
    assert len(first.SECRET_KEY) >= 32 and first.SECRET_KEY == second.SECRET_KEY
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_default_database_is_sqlite_in_instance(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert Config().SQLALCHEMY_DATABASE_URI.startswith("sqlite:///")
    assert Config().SQLALCHEMY_DATABASE_URI.endswith("instance/k-inventory-privacy.sqlite") or "kinv" in (
        Config().SQLALCHEMY_DATABASE_URI
    )


def test_postgresql_urls_use_psycopg(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://127.0.0.1:5432/test")
    assert Config().SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://127.0.0.1:5432/test"


def test_safe_production_settings_start(production_env):
    config = ProductionConfig()
    assert config.problems() == []
    assert config.SESSION_COOKIE_SECURE and config.HSTS


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("SECRET_KEY", None, "SECRET_KEY"),
        ("SECRET_KEY", "changeme", "SECRET_KEY"),
        ("SECRET_KEY", "short-secret", "SECRET_KEY"),
        ("HASH_KEY", None, "HASH_KEY"),
        ("DATABASE_URL", "sqlite:////srv/kinv.sqlite", "ALLOW_SQLITE_IN_PRODUCTION"),
        ("DATABASE_URL", None, "DATABASE_URL"),
        ("MAIL_SERVER", None, "MAIL_SERVER"),
        ("MAIL_DEFAULT_SENDER", None, "MAIL_DEFAULT_SENDER"),
        ("SITE_URL", "http://www.k-inventory.com", "SITE_URL"),
        ("RECAPTCHA_SECRET_KEY", None, "RECAPTCHA_SECRET_KEY"),
        ("SMS_WEBHOOK_SECRET", None, "SMS_WEBHOOK_SECRET"),
    ],
)
def test_production_refuses_unsafe_settings(production_env, variable, value, named):
    if value is None:
        production_env.delenv(variable)
    else:
        production_env.setenv(variable, value)
    with pytest.raises(InsecureConfiguration) as error:
        create_app(ProductionConfig())
    assert named in str(error.value)


def test_production_names_every_variable_in_one_message(monkeypatch):
    for name in SAFE_PRODUCTION:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("APP_ENV", "production")
    with pytest.raises(InsecureConfiguration) as error:
        create_app()
    message = str(error.value)
    for name in ("SECRET_KEY", "HASH_KEY", "DATABASE_URL", "MAIL_SERVER", "MAIL_DEFAULT_SENDER", "SITE_URL"):
        assert name in message


def test_sqlite_allowed_in_production_when_asked(production_env):
    production_env.setenv("DATABASE_URL", "sqlite:////srv/kinv.sqlite")
    production_env.setenv("ALLOW_SQLITE_IN_PRODUCTION", "1")
    assert ProductionConfig().problems() == []
