"""Settings read from the environment (and a `.env` file), with safe checks for production."""

import base64
import binascii
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import click
from flask.cli import AppGroup

BASE_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_PATH", BASE_DIR / "instance"))
WEAK_SECRETS = {"", "dev", "secret", "changeme", "change-me", "test", "password"}
# Words that show a value was copied from an example rather than generated.
PLACEHOLDER_WORDS = ("change", "example", "placeholder", "secret", "password", "replace", "your", "xxxx", "todo")
MIN_SECRET_LENGTH = 32  # bytes
MIN_DISTINCT_CHARACTERS = 12  # 32 random URL-safe characters hold about 25 distinct ones
ENVIRONMENTS = ("development", "test", "production")
STAFF_SESSION_MAX_SECONDS = 12 * 3600  # a staff session ends 12 hours after login, whatever happens
FORM_BODY_LIMIT = 64 * 1024  # the largest form (a rights request) is under 25 KB


class InsecureConfiguration(RuntimeError):
    """Raised when settings are unknown or unsafe for production; the message names every variable to set."""
CAPTCHA_SETTING_PREFIXES = {"recaptcha": "RECAPTCHA", "hcaptcha": "HCAPTCHA", "turnstile": "TURNSTILE"}


# France, its overseas departments and regions, and its overseas collectivities with a numbering plan of their own.
SMS_COUNTRIES = "FR,GP,MQ,GF,RE,YT,PM,BL,MF,WF,PF,NC"


def country_list(value: str) -> tuple[str, ...]:
    """ISO 3166 country codes from a comma-separated setting, upper-cased."""
    return tuple(code.strip().upper() for code in value.split(",") if code.strip())


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


def served_site_url() -> str:
    """The address `flask run` (or `make run`/`make serve`) serves on: FLASK_RUN_HOST and FLASK_RUN_PORT, Flask's own
    settings of `flask run`, default 127.0.0.1:5000; a wildcard host is reached on the loopback."""
    host = os.environ.get("FLASK_RUN_HOST") or "127.0.0.1"
    host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    return f"http://{host}:{os.environ.get('FLASK_RUN_PORT') or '5000'}"


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
    # Public pages kept in each process (app.pagecache) for PAGE_CACHE_SECONDS; SimpleCache: per process, no server.
    CACHE_TYPE = "SimpleCache"
    CACHE_THRESHOLD = 1000
    WTF_CSRF_TIME_LIMIT = STAFF_SESSION_MAX_SECONDS  # a token outlives no staff session
    # CSRF tokens on staff forms only (app.security.check_staff_csrf, Flask-WTF's documented `csrf.protect()` for this
    # setting); every state-changing request is checked for its origin (app.crossorigin).
    WTF_CSRF_CHECK_DEFAULT = False
    RATELIMIT_HEADERS_ENABLED = True
    # Said explicitly: the one Limiter instance would otherwise keep the last app's choice (tests turn it off).
    RATELIMIT_ENABLED = True
    # A moving window: a burst straddling a minute boundary cannot pass twice the limit.
    RATELIMIT_STRATEGY = "moving-window"
    # Test each pooled connection before use: a database restart or a terminated connection costs a reconnect, not
    # an error page. Statement parameters (addresses, numbers) never go into logs nor error messages.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "hide_parameters": True}
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True  # storage unreachable: limit per worker in memory, log it, stay up
    RATELIMIT_SWALLOW_ERRORS = True
    MAX_CONTENT_LENGTH = FORM_BODY_LIMIT  # bigger bodies get the 413 page before anything parses them

    def __init__(self) -> None:
        """Read every setting from the environment; fill development-only defaults."""
        env = os.environ.get
        self.APP_ENV = env("APP_ENV", "development")
        self.SECRET_KEY = env("SECRET_KEY")
        self.HASH_KEY = env("HASH_KEY")
        self.SECRET_KEY_FALLBACKS = [key.strip() for key in env("SECRET_KEY_FALLBACKS", "").split(",") if key.strip()]
        self.SQLALCHEMY_DATABASE_URI = psycopg_url(env("DATABASE_URL") or default_database_url())
        self.ALLOW_SQLITE_IN_PRODUCTION = env_bool("ALLOW_SQLITE_IN_PRODUCTION")
        self.SITE_URL = (env("SITE_URL") or served_site_url()).rstrip("/")
        # How often each worker reads which policy version is in force (the publishing worker knows at once).
        self.POLICY_RECHECK_SECONDS = float(env("POLICY_RECHECK_SECONDS", "2"))
        # How long a shared cache (nginx: deploy/nginx.conf) may serve a public page before asking the app again.
        self.PAGE_CACHE_SECONDS = int(env("PAGE_CACHE_SECONDS", "5"))
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
        self.MAIL_UNVERIFIED_CAP = int(env("MAIL_UNVERIFIED_CAP", "3"))
        self.DKIM_SIGNING = env("DKIM_SIGNING", "").strip().lower()
        self.DKIM_DOMAIN = env("DKIM_DOMAIN", "")
        self.DKIM_SELECTOR = env("DKIM_SELECTOR", "")
        self.DKIM_PRIVATE_KEY_FILE = env("DKIM_PRIVATE_KEY_FILE", "")
        self.DKIM_ED25519_SELECTOR = env("DKIM_ED25519_SELECTOR", "")  # a second signature, ed25519-sha256
        self.DKIM_ED25519_PRIVATE_KEY_FILE = env("DKIM_ED25519_PRIVATE_KEY_FILE", "")
        self.RATELIMIT_STORAGE_URI = env("RATELIMIT_STORAGE_URI", "memory://")
        self.RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1} if (
            self.RATELIMIT_STORAGE_URI.startswith("redis")) else {}
        self.ALLOW_PER_WORKER_RATELIMITS = env_bool("ALLOW_PER_WORKER_RATELIMITS")
        self.WORKERS = int(env("GUNICORN_WORKERS") or env("WEB_CONCURRENCY") or "1")
        self.TRUSTED_PROXY_COUNT = int(env("TRUSTED_PROXY_COUNT", "0"))
        self.TRUSTED_HOSTS = [host.strip() for host in env("TRUSTED_HOSTS", "").split(",") if host.strip()] or None
        self.UNSUBSCRIBE_MAILTO = env("UNSUBSCRIBE_MAILTO", "")
        self.TWILIO_ACCOUNT_SID = env("TWILIO_ACCOUNT_SID", "")
        self.TWILIO_AUTH_TOKEN = env("TWILIO_AUTH_TOKEN", "")
        self.TWILIO_FROM = env("TWILIO_FROM", "")
        self.TWILIO_MESSAGING_SERVICE_SID = env("TWILIO_MESSAGING_SERVICE_SID", "")
        self.TWILIO_API_URL = env("TWILIO_API_URL", "https://api.twilio.com")
        self.SMS_WEBHOOK_SECRET = env("SMS_WEBHOOK_SECRET", "") or self.TWILIO_AUTH_TOKEN
        self.SMS_SENDER_NAME = env("SMS_SENDER_NAME", "K-Inventory")
        self.SMS_STOP_NUMBER = env("SMS_STOP_NUMBER", "") or self.TWILIO_FROM
        self.SMS_MAX_ATTEMPTS = int(env("SMS_MAX_ATTEMPTS", "8"))
        self.SMS_TIMEOUT = float(env("SMS_TIMEOUT", "10"))
        self.SMS_FILE_DIR = env("SMS_FILE_DIR", str(INSTANCE_DIR / "sms"))
        self.PRIVACY_EMAIL = env("PRIVACY_EMAIL", "")  # named on the contact page: rights by e-mail, handled by hand
        self.SMS_COUNTRIES = country_list(env("SMS_COUNTRIES", SMS_COUNTRIES))
        self.SMS_DAILY_BUDGET = int(env("SMS_DAILY_BUDGET", "200"))
        self.SMS_MAX_SEGMENTS = int(env("SMS_MAX_SEGMENTS", "2"))
        self.MAIL_ADDRESS_DAILY_CAP = int(env("MAIL_ADDRESS_DAILY_CAP", "5"))
        self.MAIL_BLOCK_THRESHOLD = int(env("MAIL_BLOCK_THRESHOLD", "10"))
        self.CAPTCHA_PROVIDER = env("CAPTCHA_PROVIDER", "recaptcha")
        self.MAIL_PROVIDER = env("MAIL_PROVIDER", "")  # the mail provider's name, for the record of processing
        self.HOSTING_PROVIDER = env("HOSTING_PROVIDER", "")  # the host's name, for the record of processing
        self.SCAN_URLS = [url.strip() for url in env("SCAN_URLS", "").split(",") if url.strip()]
        self.SCAN_SCHEDULE = env("SCAN_SCHEDULE", "mon 04:00")  # the weekly cookie scan: day and time in Paris
        self.SCAN_CHROMIUM = env("SCAN_CHROMIUM", "/usr/bin/chromium")
        for prefix in CAPTCHA_SETTING_PREFIXES.values():
            setattr(self, f"{prefix}_SITE_KEY", env(f"{prefix}_SITE_KEY", ""))
            setattr(self, f"{prefix}_SECRET_KEY", env(f"{prefix}_SECRET_KEY", ""))
        self.CAPTCHA_VERIFY_URL = env("CAPTCHA_VERIFY_URL", "")
        self.CAPTCHA_EXPECTED_HOSTNAME = env("CAPTCHA_EXPECTED_HOSTNAME", "")
        self.CAPTCHA_TIMEOUT = float(env("CAPTCHA_TIMEOUT", "5"))
        self.RECAPTCHA_VERSION = int(env("RECAPTCHA_VERSION", "2"))
        self.RECAPTCHA_EXPECTED_ACTION = env("RECAPTCHA_EXPECTED_ACTION", "contact")
        self.RECAPTCHA_MIN_SCORE = float(env("RECAPTCHA_MIN_SCORE", "0.5"))
        self.BACKUP_DIR = env("BACKUP_DIR", str(INSTANCE_DIR / "backups"))
        self.BACKUP_AGE_RECIPIENTS = [r.strip() for r in env("BACKUP_AGE_RECIPIENTS", "").split(",") if r.strip()]
        self.BACKUP_AGE_IDENTITY_FILE = env("BACKUP_AGE_IDENTITY_FILE", "")
        self.BACKUP_SIGNING_KEY_FILE = env("BACKUP_SIGNING_KEY_FILE", "")
        self.BACKUP_SIGNING_PUBLIC_KEY = env("BACKUP_SIGNING_PUBLIC_KEY", "")
        # The restore journal keeps the variable and file names it had when it held erasures only: no deployment
        # loses its journal on upgrade.
        self.BACKUP_JOURNAL = env("BACKUP_JOURNAL", "") or env(
            "ERASURE_JOURNAL", str(Path(self.BACKUP_DIR) / "erasure-journal.txt"))
        self.LOG_FORMAT = env("LOG_FORMAT", "text").strip().lower()
        self.SQLALCHEMY_ECHO = env_bool("SQLALCHEMY_ECHO")  # every statement logged, for a diagnosis (redacted)
        self.METRICS_TOKEN = env("METRICS_TOKEN", "")
        self.METRICS_ALLOWED_IPS = env("METRICS_ALLOWED_IPS", "")
        self.READY_OUTBOX_MAX_AGE = int(env("READY_OUTBOX_MAX_AGE", "3600"))
        self.READY_SCHEDULER_MAX_SILENCE = int(env("READY_SCHEDULER_MAX_SILENCE", "300"))
        # The K-Inventory product (docs/product.md): its events and opt-out checks, its customers' preference links.
        self.PRODUCT_WEBHOOK_SECRET = env("PRODUCT_WEBHOOK_SECRET", "")  # whsec_<base64>, Standard Webhooks
        self.PRODUCT_LINK_SECRET = env("PRODUCT_LINK_SECRET", "")
        # One consent for the company's sites: the cookies' domain (.k-inventory.com) and who may read the choice.
        self.CONSENT_COOKIE_DOMAIN = env("CONSENT_COOKIE_DOMAIN", "") or None
        self.CONSENT_SHARED_ORIGINS = [o.strip().rstrip("/") for o in env("CONSENT_SHARED_ORIGINS", "").split(",")
                                       if o.strip()]
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
    """A secret is weak when missing, under 32 bytes, a placeholder, or a repetition (`aaaa…`, `abcabc…`)."""
    if not value or value.lower() in WEAK_SECRETS or len(value.encode()) < MIN_SECRET_LENGTH:
        return True
    lowered = value.lower()
    repeated = value in (value + value)[1:-1]  # true for any string made of one repeated block
    return repeated or len(set(value)) < MIN_DISTINCT_CHARACTERS or any(word in lowered for word in PLACEHOLDER_WORDS)


def secret_problems(config: "Config") -> list[str]:
    """SECRET_KEY and HASH_KEY: present, strong, and not the same value."""
    found = [f"{name}: missing or weak (at least {MIN_SECRET_LENGTH} random bytes, no placeholder or repetition; "
             "`flask secrets generate` prints fresh values)"
             for name in ("SECRET_KEY", "HASH_KEY") if weak_secret(getattr(config, name))]
    if config.SECRET_KEY and config.SECRET_KEY == config.HASH_KEY:
        found.append("HASH_KEY: must differ from SECRET_KEY")
    return found


def edge_problems(config: "Config") -> list[str]:
    """Hosts, proxies and rate-limit storage."""
    found = []
    if not config.TRUSTED_HOSTS:
        found.append("TRUSTED_HOSTS: not set (the site's host names, comma-separated, e.g. www.k-inventory.com)")
    if config.TRUSTED_PROXY_COUNT < 0:
        found.append("TRUSTED_PROXY_COUNT: the number of reverse proxies in front of the site (0 or more)")
    if (config.RATELIMIT_STORAGE_URI.startswith("memory") and config.WORKERS > 1
            and not config.ALLOW_PER_WORKER_RATELIMITS):
        found.append(f"RATELIMIT_STORAGE_URI: memory:// with {config.WORKERS} workers counts each limit per worker "
                     "(use redis://…, or ALLOW_PER_WORKER_RATELIMITS=1 on purpose)")
    return found


def standard_webhooks_secret(secret: str) -> bool:
    """Whether a secret is whsec_ and the base64 of at least 24 bytes, as Standard Webhooks secrets are made."""
    prefix, _, encoded = secret.partition("_")
    try:
        return prefix == "whsec" and len(base64.b64decode(encoded, validate=True)) >= 24
    except binascii.Error:
        return False


def product_problems(config: "Config") -> list[str]:
    """The product's secrets, and a consent shared only where browsers will keep it (docs/product.md)."""
    found = []
    if config.PRODUCT_WEBHOOK_SECRET and not standard_webhooks_secret(config.PRODUCT_WEBHOOK_SECRET):
        found.append("PRODUCT_WEBHOOK_SECRET: a Standard Webhooks secret, whsec_<base64 of 24+ random bytes>")
    if config.PRODUCT_LINK_SECRET and weak_secret(config.PRODUCT_LINK_SECRET):
        found.append(f"PRODUCT_LINK_SECRET: weak (at least {MIN_SECRET_LENGTH} random bytes)")
    domain, host = (config.CONSENT_COOKIE_DOMAIN or "").lstrip(".").lower(), urlsplit(config.SITE_URL).hostname or ""
    if domain and not (host == domain or host.endswith("." + domain)):
        found.append(f"CONSENT_COOKIE_DOMAIN: {domain} does not hold the site's host {host} (browsers would drop "
                     "the consent cookie)")
    if any(not origin.startswith("https://") for origin in config.CONSENT_SHARED_ORIGINS):
        found.append("CONSENT_SHARED_ORIGINS: https:// origins only")
    return found


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
    return found + ed25519_problems(config)


def ed25519_problems(config: Config) -> list[str]:
    """The optional second (ed25519) signature: both settings or neither, and the key file there."""
    selector, key_file = config.DKIM_ED25519_SELECTOR, config.DKIM_ED25519_PRIVATE_KEY_FILE
    if not (selector or key_file):
        return []
    if not selector:
        return ["DKIM_ED25519_SELECTOR: not set (DKIM_ED25519_PRIVATE_KEY_FILE needs it)"]
    if not Path(key_file or "/nonexistent").is_file():
        return ["DKIM_ED25519_PRIVATE_KEY_FILE: no readable PEM key there "
                "(make one with `flask mail dkim-keygen --algorithm ed25519`)"]
    return []


class ProductionConfig(Config):
    """Production: secure cookies, HSTS, and a refusal to start on unsafe settings."""

    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
    HSTS = True

    def problems(self) -> list[str]:
        """Every setting that is unsafe for production, as `VARIABLE: reason` lines."""
        found = secret_problems(self) + edge_problems(self) + product_problems(self)
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
    """Pick the settings class from APP_ENV; an unknown value refuses to start (never a silent development run)."""
    name = os.environ.get("APP_ENV", "development")
    if name not in ENVIRONMENTS:
        raise InsecureConfiguration(f"APP_ENV: {name!r} is not one of {', '.join(ENVIRONMENTS)}")
    return {"production": ProductionConfig, "test": TestingConfig}.get(name, Config)()


secrets_group = AppGroup("secrets", help="Secret settings.")


@secrets_group.command("generate")
def generate_secrets() -> None:
    """Print fresh SECRET_KEY and HASH_KEY lines for the environment (never written anywhere)."""
    for name in ("SECRET_KEY", "HASH_KEY"):
        click.echo(f"{name}={secrets.token_urlsafe(48)}")
