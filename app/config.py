"""Settings read from the environment (and a `.env` file), with safe checks for production."""

import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_PATH", BASE_DIR / "instance"))
WEAK_SECRETS = {"", "dev", "secret", "changeme", "change-me", "test", "password"}
MIN_SECRET_LENGTH = 32
CAPTCHA_SETTING_PREFIXES = {"recaptcha": "RECAPTCHA", "hcaptcha": "HCAPTCHA", "turnstile": "TURNSTILE"}


def env_bool(name: str, default: bool = False) -> bool:
    """Read a yes/no setting."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def kept_secret(name: str) -> str:
    """Return a development secret generated once and kept under `instance/`."""
    path = INSTANCE_DIR / name
    if not path.exists():
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def default_database_url() -> str:
    """The embedded default: SQLite in `instance/`."""
    return f"sqlite:///{INSTANCE_DIR / 'k-inventory-privacy.sqlite'}"


class Config:
    """Settings shared by every environment, read from the environment when created."""

    BABEL_DEFAULT_LOCALE = "fr"
    BABEL_DEFAULT_TIMEZONE = "Europe/Paris"
    LANGUAGES = ("fr", "en")
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "translations")  # one catalogue: en/LC_MESSAGES/messages.po
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PREFERRED_URL_SCHEME = "http"
    HSTS = False
    WTF_CSRF_TIME_LIMIT = None
    RATELIMIT_HEADERS_ENABLED = True

    def __init__(self) -> None:
        """Read every setting from the environment; fill development-only defaults."""
        env = os.environ.get
        self.APP_ENV = env("APP_ENV", "development")
        self.SECRET_KEY = env("SECRET_KEY")
        self.HASH_KEY = env("HASH_KEY")
        self.SECRET_KEY_FALLBACKS = [key.strip() for key in env("SECRET_KEY_FALLBACKS", "").split(",") if key.strip()]
        self.SQLALCHEMY_DATABASE_URI = psycopg_url(env("DATABASE_URL") or default_database_url())
        self.ALLOW_SQLITE_IN_PRODUCTION = env_bool("ALLOW_SQLITE_IN_PRODUCTION")
        self.SITE_URL = env("SITE_URL", "http://127.0.0.1:5000").rstrip("/")
        self.MAIL_SERVER = env("MAIL_SERVER", "")
        self.MAIL_PORT = int(env("MAIL_PORT", "25"))
        self.MAIL_USERNAME = env("MAIL_USERNAME", "")
        self.MAIL_PASSWORD = env("MAIL_PASSWORD", "")
        self.MAIL_USE_TLS = env_bool("MAIL_USE_TLS")
        self.MAIL_USE_SSL = env_bool("MAIL_USE_SSL")
        self.MAIL_CA_FILE = env("MAIL_CA_FILE", "")
        self.MAIL_ALLOW_PLAINTEXT = env_bool("MAIL_ALLOW_PLAINTEXT")
        self.MAIL_DEFAULT_SENDER = env("MAIL_DEFAULT_SENDER", "K-Inventory <no-reply@k-inventory.com>")
        self.MAIL_TIMEOUT = float(env("MAIL_TIMEOUT", "10"))
        self.MAIL_MAX_ATTEMPTS = int(env("MAIL_MAX_ATTEMPTS", "8"))
        self.MAIL_FILE_DIR = env("MAIL_FILE_DIR", str(INSTANCE_DIR / "mail"))
        self.MAIL_BOUNCE_DOMAIN = env("MAIL_BOUNCE_DOMAIN", "")
        self.DKIM_SIGNING = env("DKIM_SIGNING", "").strip().lower()
        self.DKIM_DOMAIN = env("DKIM_DOMAIN", "")
        self.DKIM_SELECTOR = env("DKIM_SELECTOR", "")
        self.DKIM_PRIVATE_KEY_FILE = env("DKIM_PRIVATE_KEY_FILE", "")
        self.RATELIMIT_STORAGE_URI = env("RATELIMIT_STORAGE_URI", "memory://")
        self.UNSUBSCRIBE_MAILTO = env("UNSUBSCRIBE_MAILTO", "")
        self.SMS_WEBHOOK_SECRET = env("SMS_WEBHOOK_SECRET", "")
        self.CAPTCHA_PROVIDER = env("CAPTCHA_PROVIDER", "recaptcha")
        for prefix in CAPTCHA_SETTING_PREFIXES.values():
            setattr(self, f"{prefix}_SITE_KEY", env(f"{prefix}_SITE_KEY", ""))
            setattr(self, f"{prefix}_SECRET_KEY", env(f"{prefix}_SECRET_KEY", ""))
        self.CAPTCHA_VERIFY_URL = env("CAPTCHA_VERIFY_URL", "")
        self.CAPTCHA_EXPECTED_HOSTNAME = env("CAPTCHA_EXPECTED_HOSTNAME", "")
        self.CAPTCHA_TIMEOUT = float(env("CAPTCHA_TIMEOUT", "5"))
        self.RECAPTCHA_VERSION = int(env("RECAPTCHA_VERSION", "2"))
        self.RECAPTCHA_EXPECTED_ACTION = env("RECAPTCHA_EXPECTED_ACTION", "contact")
        self.RECAPTCHA_MIN_SCORE = float(env("RECAPTCHA_MIN_SCORE", "0.5"))
        self.LOG_FORMAT = env("LOG_FORMAT", "text").strip().lower()
        self.METRICS_TOKEN = env("METRICS_TOKEN", "")
        self.METRICS_ALLOWED_IPS = env("METRICS_ALLOWED_IPS", "")
        self.READY_OUTBOX_MAX_AGE = int(env("READY_OUTBOX_MAX_AGE", "3600"))
        if self.APP_ENV != "production":
            self.SECRET_KEY = self.SECRET_KEY or kept_secret("secret_key")
            self.HASH_KEY = self.HASH_KEY or kept_secret("hash_key")

    def problems(self) -> list[str]:
        """Every setting that is unsafe for production, as `VARIABLE: reason` lines."""
        return []


def psycopg_url(url: str) -> str:
    """Point plain PostgreSQL URLs at the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def weak_secret(value: str | None) -> bool:
    """A secret is weak when missing, short or a well-known placeholder."""
    return not value or value.lower() in WEAK_SECRETS or len(value) < MIN_SECRET_LENGTH


LOOPBACK_HOSTS = ("localhost", "::1")


def mail_problems(config: Config) -> list[str]:
    """Mail settings unsafe for production: plaintext SMTP, who signs with DKIM, the key when the site signs."""
    return transport_problems(config) + dkim_problems(config)


def transport_problems(config: Config) -> list[str]:
    """SMTP to another machine goes over verified TLS unless the operator says otherwise."""
    if config.MAIL_USE_TLS and config.MAIL_USE_SSL:
        return ["MAIL_USE_TLS, MAIL_USE_SSL: choose one (STARTTLS, or implicit TLS on port 465)"]
    loopback = config.MAIL_SERVER in LOOPBACK_HOSTS or config.MAIL_SERVER.startswith("127.")
    if config.MAIL_SERVER and not (config.MAIL_USE_TLS or config.MAIL_USE_SSL or loopback
                                   or config.MAIL_ALLOW_PLAINTEXT):
        return ["MAIL_USE_TLS or MAIL_USE_SSL: not set for a relay that is not on this machine "
                "(MAIL_ALLOW_PLAINTEXT=1 to send in clear on purpose)"]
    return []


def dkim_problems(config: Config) -> list[str]:
    """Someone must sign with DKIM: the site (with its key) or the relay."""
    if config.DKIM_SIGNING not in ("app", "relay"):
        return ["DKIM_SIGNING: not set (app: the site signs with DKIM_DOMAIN, DKIM_SELECTOR and "
                "DKIM_PRIVATE_KEY_FILE; relay: you state that the mail relay signs)"]
    if config.DKIM_SIGNING == "relay":
        return []
    found = [f"{name}: not set (DKIM_SIGNING=app needs it)" for name in ("DKIM_DOMAIN", "DKIM_SELECTOR")
             if not getattr(config, name)]
    if not Path(config.DKIM_PRIVATE_KEY_FILE or "/nonexistent").is_file():
        found.append("DKIM_PRIVATE_KEY_FILE: no readable PEM key there (make one with `flask mail dkim-keygen`)")
    return found


class ProductionConfig(Config):
    """Production: secure cookies, HSTS, and a refusal to start on unsafe settings."""

    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
    HSTS = True

    def problems(self) -> list[str]:
        """Every setting that is unsafe for production, as `VARIABLE: reason` lines."""
        found = []
        if weak_secret(self.SECRET_KEY):
            found.append(f"SECRET_KEY: missing or weak (at least {MIN_SECRET_LENGTH} random characters)")
        if weak_secret(self.HASH_KEY):
            found.append(f"HASH_KEY: missing or weak (at least {MIN_SECRET_LENGTH} random characters)")
        if "DATABASE_URL" not in os.environ:
            found.append("DATABASE_URL: not set (production needs an explicit database)")
        elif self.SQLALCHEMY_DATABASE_URI.startswith("sqlite") and not self.ALLOW_SQLITE_IN_PRODUCTION:
            found.append("DATABASE_URL: SQLite in production needs ALLOW_SQLITE_IN_PRODUCTION=1")
        if not self.MAIL_SERVER:
            found.append("MAIL_SERVER: not set")
        if "MAIL_DEFAULT_SENDER" not in os.environ:
            found.append("MAIL_DEFAULT_SENDER: not set")
        found += mail_problems(self)
        if "SITE_URL" not in os.environ or not self.SITE_URL.startswith("https://"):
            found.append("SITE_URL: not set to the site's https:// address")
        prefix = CAPTCHA_SETTING_PREFIXES.get(self.CAPTCHA_PROVIDER)
        if prefix is None:
            found.append(f"CAPTCHA_PROVIDER: one of {', '.join(CAPTCHA_SETTING_PREFIXES)}")
        elif not (getattr(self, f"{prefix}_SITE_KEY") and getattr(self, f"{prefix}_SECRET_KEY")):
            found.append(f"{prefix}_SITE_KEY, {prefix}_SECRET_KEY: not set (the contact form's anti-spam check)")
        if weak_secret(self.SMS_WEBHOOK_SECRET):
            found.append("SMS_WEBHOOK_SECRET: missing or weak (the SMS webhook checks signatures with it)")
        return found


class TestingConfig(Config):
    """Tests: CSRF stays on (tests send the real token); each test picks its database."""

    TESTING = True


def config_for_environment() -> Config:
    """Pick the settings class from APP_ENV."""
    if os.environ.get("APP_ENV") == "production":
        return ProductionConfig()
    return Config()
