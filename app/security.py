"""Security headers on every response: a per-request CSP nonce, framing and referrer rules, HSTS; which pages are
public (the only ones where consented tags may run) and which are private (no referrer, never cached)."""

import hashlib
import os
import secrets
from collections.abc import Callable, Hashable
from functools import lru_cache
from itertools import chain

from flask import Flask, current_app, g, request, session
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature, Signer, TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode, want_bytes
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

from app.extensions import csrf

PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=(), interest-cohort=()"
)
SAFE_METHODS = frozenset({"GET", "HEAD"})
BASE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "frame-src": ["'none'"],
    "font-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}


# The one allow-list of public pages that show no personal data: consented tags and their CSP hosts appear on these
# pages (GET only) and nowhere else. Every other response is private: the back-office, signed-link pages, /contact,
# error pages, form posts. A page joins this list only if it never shows anything about a visitor.
PUBLIC_PAGES = frozenset({
    "main.home", "policy.show", "policy.versions", "policy.version", "consent.preferences", "newsletter.subscribe",
    "consent.gpc_support",
})


class BoundedIntConverter(IntegerConverter):
    """`<int:…>` in a URL, at most what a database integer column holds: a bigger number is a 404, not a 500."""

    def __init__(self, map, *args, **kwargs) -> None:  # noqa: A002 (Werkzeug's own parameter name)
        """Werkzeug's integer converter with a default maximum of 2**31 - 1."""
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


class NulCharacter(BadRequest):
    """A NUL character in the address or a form field: no database stores it, no person types it."""


def refuse_nul_characters() -> None:
    """Answer 400 before any view sees a NUL character (PostgreSQL would refuse it with a 500)."""
    asked = request._get_current_object()  # (one context look-up, not one per attribute)
    query = asked.query_string
    if "\x00" in asked.path or b"%00" in query or b"\x00" in query:  # the only ways a NUL reaches the arguments
        raise NulCharacter()
    if asked.method in SAFE_METHODS:
        return  # a GET's form is never read
    values = chain(asked.form.keys(), *asked.form.listvalues())
    if any("\x00" in value for value in values):
        raise NulCharacter()


def check_csrf() -> None:
    """Flask-WTF's CSRF check (exempt views and blueprints apart) on every request that can change something."""
    config = current_app.config
    if config["WTF_CSRF_ENABLED"] and request.method in config["WTF_CSRF_METHODS"]:
        csrf.protect(apply_exemptions=True)


def mark_private() -> None:
    """Treat this response as private whatever its endpoint (an error page)."""
    g.private_page = True


def public_page() -> bool:
    """Whether this response is a public page without personal data (tags allowed, may be cached)."""
    asked = request._get_current_object()
    return asked.method in SAFE_METHODS and asked.endpoint in PUBLIC_PAGES and not g.get("private_page", False)


def csp_nonce() -> str:
    """The nonce every inline script and style element of this response must carry."""
    values = g._get_current_object()
    nonce = values.get("csp_nonce")
    if nonce is None:
        nonce = values.csp_nonce = new_nonce()
    return nonce


def new_nonce() -> str:
    """A fresh nonce (18 random bytes, URL-safe base64)."""
    return secrets.token_urlsafe(18)


def allow_sources(directive: str, *sources: str) -> None:
    """Let this response load from extra hosts (a consented tag, the captcha widget)."""
    g.setdefault("csp_extra", {}).setdefault(directive, []).extend(sources)


def content_security_policy() -> str:
    """The policy: the strict base, the sources this response allowed, and its nonce."""
    extra = tuple((name, tuple(values)) for name, values in g.get("csp_extra", {}).items())
    return policy_without_nonce(extra).replace(NONCE_SLOT, csp_nonce())


NONCE_SLOT = "{nonce}"


@lru_cache(maxsize=256)
def policy_without_nonce(extra: tuple[tuple[str, tuple[str, ...]], ...]) -> str:
    """Compose the policy once per set of extra sources, with a slot for the nonce."""
    directives = {name: list(values) for name, values in BASE_CSP.items()}
    for name, values in extra:
        current = [v for v in directives.get(name, []) if v != "'none'"]
        directives[name] = current + [v for v in values if v not in current]
    for name in ("script-src", "style-src"):
        directives[name].append(f"'nonce-{NONCE_SLOT}'")
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


# The headers every response carries whatever its page (the CSP, referrer and cache rules depend on the page).
FIXED_HEADERS = (("X-Content-Type-Options", "nosniff"), ("Permissions-Policy", PERMISSIONS_POLICY),
                 ("X-Frame-Options", "DENY"), ("Cross-Origin-Opener-Policy", "same-origin"))
HSTS_HEADER = ("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
NO_STORE = ("Cache-Control", "no-store")  # pages that may hold personal data: never cached by a browser or proxy


@lru_cache(maxsize=4)
def page_headers(private: bool, hsts: bool) -> tuple[tuple[str, str, str], ...]:
    """The security headers besides the CSP for a private or public page, with their lower-case names."""
    # on a private page, a token in the address never leaves with a click
    wanted = [*FIXED_HEADERS, ("Referrer-Policy", "no-referrer" if private else "strict-origin-when-cross-origin")]
    wanted += [HSTS_HEADER] if hsts else []
    wanted += [NO_STORE] if private else []
    return tuple((name, value, name.lower()) for name, value in wanted)


def set_security_headers(response):
    """Add the security headers to a response (each replaces one the view may have set)."""
    private = request.endpoint != "static" and not public_page()
    headers = response.headers
    present = {name.lower() for name, _value in headers}
    for name, value, lower in (("Content-Security-Policy", content_security_policy(), "content-security-policy"),
                               *page_headers(private, current_app.config["HSTS"])):
        if lower in present:
            headers[name] = value
        else:
            headers.add(name, value)  # (no search through the headers for one that is not there)
    return response


COMPRESS_ABOVE = 256  # bytes of JSON: smaller payloads never come out shorter from zlib


class KeptKeySigner(TimestampSigner):
    """itsdangerous' timestamp signer that remembers each key it derives (it would derive one for every signature)."""

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        """The derived key for a secret key (the current one by default), worked out once."""
        derived = self.__dict__.setdefault("derived_keys", {})
        if secret_key not in derived:
            derived[secret_key] = super().derive_key(secret_key)
        return derived[secret_key]


class CompactSerializer(URLSafeTimedSerializer):
    """itsdangerous' URL-safe timed serializer that tries zlib only on payloads big enough to gain from it (a session
    or a CSRF token is a few dozen bytes, and setting zlib up costs more than signing them; it reads either form), and
    keeps its signers instead of making one for every value."""

    default_signer = KeptKeySigner

    def make_signer(self, salt: str | bytes | None = None) -> Signer:
        """The signer for a salt (the serializer's own by default), made once."""
        signers = self.__dict__.setdefault("signers", {})
        if salt not in signers:
            signers[salt] = super().make_signer(salt)
        return signers[salt]

    def dump_payload(self, obj) -> bytes:
        """The payload as URL-safe base64, compressed only when it is long."""
        json = want_bytes(self.serializer.dumps(obj, **self.serializer_kwargs))
        return super().dump_payload(obj) if len(json) > COMPRESS_ABOVE else base64_encode(json)


def made_once(app: Flask, name: str, keys: Hashable, build: Callable[[], URLSafeTimedSerializer]):
    """A serializer kept on the app, made again only when its keys change."""
    made = app.extensions.get(name)
    if made is None or made[0] != keys:
        made = app.extensions[name] = (keys, build())
    return made[1]


class SignedCookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, signed by a compact serializer made once per key instead of twice a request."""

    def get_signing_serializer(self, app: Flask):
        """The serializer for the app's current key and fallbacks: Flask's settings, with hashlib's SHA-1 itself
        rather than Flask's lazy wrapper (the same digest, which Python's HMAC computes in C only when given it)."""
        keys = (*(app.config["SECRET_KEY_FALLBACKS"] or ()), app.secret_key)  # itsdangerous: current key last
        return made_once(app, "kinv.session_serializer", keys, lambda: CompactSerializer(
            list(keys), salt=self.salt, serializer=self.serializer,
            signer_kwargs={"key_derivation": self.key_derivation, "digest_method": hashlib.sha1}))


CSRF_FIELD, CSRF_SALT = "csrf_token", "wtf-csrf-token"  # Flask-WTF's defaults (validate_csrf reads with them)


def csrf_token() -> str:
    """This request's CSRF token, as Flask-WTF's generate_csrf makes it (same session key, salt and format), signed by
    a compact serializer made once per key."""
    values = g._get_current_object()
    token = values.get(CSRF_FIELD)
    if token is None:
        visit, app = session._get_current_object(), current_app._get_current_object()
        raw = visit.get(CSRF_FIELD)
        if raw is None:
            raw = visit[CSRF_FIELD] = new_csrf_secret()
        token = csrf_serializer(app).dumps(raw)
        setattr(values, CSRF_FIELD, token)
    return token


def new_csrf_secret() -> str:
    """The random value a visit's CSRF tokens sign (kept in its session), as Flask-WTF makes it."""
    return hashlib.sha1(os.urandom(64)).hexdigest()


def csrf_serializer(app: Flask) -> URLSafeTimedSerializer:
    """The serializer of CSRF tokens, made once per key: SHA-1 as Flask-WTF's, with HMAC computed in C."""
    secret = app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key
    return made_once(app, "kinv.csrf_serializer", secret, lambda: CompactSerializer(
        secret, salt=CSRF_SALT, signer_kwargs={"digest_method": hashlib.sha1}))


def new_visit_with_token(app: Flask) -> tuple[str, str]:
    """For a visitor without a session: a CSRF token and the session cookie value holding its secret (what Flask and
    Flask-WTF would send together)."""
    raw = new_csrf_secret()
    visit = app.session_interface.get_signing_serializer(app).dumps({CSRF_FIELD: raw})
    return csrf_serializer(app).dumps(raw), visit


def only_csrf_secret(app: Flask, cookie_value: str) -> bool:
    """Whether a session cookie value holds a CSRF secret and nothing else."""
    try:
        visit = app.session_interface.get_signing_serializer(app).loads(cookie_value)
    except BadSignature:
        return False
    return isinstance(visit, dict) and list(visit) == [CSRF_FIELD]


def init_app(app: Flask) -> None:
    """Register the nonce and CSRF helpers for templates, the NUL and CSRF checks, the header hook and the sessions."""
    app.session_interface = SignedCookieSessions()
    # Shared pages write in this token; a page rendered afresh calls Flask-WTF's own helper (its context processor
    # comes before globals): the same token, as both keep it in `g` for the request.
    app.jinja_env.globals.update(csp_nonce=csp_nonce, csrf_token=csrf_token)
    app.before_request(refuse_nul_characters)
    app.before_request(check_csrf)
    app.after_request(set_security_headers)
