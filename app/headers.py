"""Response headers: the CSP (inline code allowed by its SHA-256 hash, so a page's bytes are the same for every
visitor), framing and referrer rules, HSTS, and who may keep a copy (shared caches keep public pages only)."""

import base64
import hashlib
from functools import lru_cache

from flask import Flask, current_app, g, request, session
from markupsafe import Markup

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
# Pages a shared cache (nginx, a CDN) may keep: the same bytes for every visitor of a variant (language, consent
# choices, GPC). /contact is one, though no tag runs there: its form shows nothing about anyone until posted.
CACHEABLE_PAGES = PUBLIC_PAGES | {"rights.contact"}
VARIES_ON = "Cookie, Sec-GPC"  # within Cookie, only the consent variant's (app.consent.state.VARIANT_COOKIE)


def mark_private() -> None:
    """Treat this response as private whatever its endpoint (an error page)."""
    g.private_page = True


def public_page() -> bool:
    """Whether this response is a public page without personal data (tags allowed)."""
    asked = request._get_current_object()
    return asked.method in SAFE_METHODS and asked.endpoint in PUBLIC_PAGES and not g.get("private_page", False)


def allow_sources(directive: str, *sources: str) -> None:
    """Let this response load from extra hosts (a consented tag, the captcha widget)."""
    g.setdefault("csp_extra", {}).setdefault(directive, []).extend(sources)


def csp_inline(kind: str, code: str) -> Markup:
    """Inline code for a <script> or <style> element, allowed by the CSP through its hash (written as it is)."""
    code = str(code)
    g.setdefault("csp_hashes", {}).setdefault(f"{kind}-src", []).append(source_hash(code))
    return Markup(code)


@lru_cache(maxsize=256)
def source_hash(code: str) -> str:
    """The CSP source for a piece of inline code: 'sha256-<base64 of its SHA-256>'."""
    return f"'sha256-{base64.b64encode(hashlib.sha256(code.encode()).digest()).decode()}'"


def content_security_policy() -> str:
    """The policy: the strict base, the hosts this response allowed, and the hashes of its inline code."""
    extra = {**g.get("csp_extra", {})}
    for directive, hashes in g.get("csp_hashes", {}).items():
        extra[directive] = [*extra.get(directive, []), *hashes]
    return composed_policy(tuple((name, tuple(values)) for name, values in extra.items()))


@lru_cache(maxsize=256)
def composed_policy(extra: tuple[tuple[str, tuple[str, ...]], ...]) -> str:
    """The policy text for a set of extra sources (the same sources, the same text: a page's bytes and headers)."""
    directives = {name: list(values) for name, values in BASE_CSP.items()}
    for name, values in extra:
        current = [v for v in directives.get(name, []) if v != "'none'"]
        directives[name] = current + [v for v in values if v not in current]
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


FIXED_HEADERS = (("X-Content-Type-Options", "nosniff"), ("Permissions-Policy", PERMISSIONS_POLICY),
                 ("X-Frame-Options", "DENY"), ("Cross-Origin-Opener-Policy", "same-origin"))
HSTS_HEADER = ("Strict-Transport-Security", "max-age=63072000; includeSubDomains")


def shared_copy_allowed(response) -> bool:
    """Whether a shared cache may keep this answer: a cacheable page asked without a session, answered 200, setting
    no cookie and touching no session (a flash, a choice, a GPC record: those answers are the visitor's own)."""
    asked = request._get_current_object()
    return (asked.method in SAFE_METHODS and asked.endpoint in CACHEABLE_PAGES and response.status_code == 200
            and not g.get("private_page", False) and not response.headers.getlist("Set-Cookie")
            and current_app.config["SESSION_COOKIE_NAME"] not in asked.cookies and not session.modified)


def cache_control(response) -> str:
    """Public pages: kept PAGE_CACHE_SECONDS by shared caches, checked again by browsers; the rest: never stored."""
    if response.cache_control.max_age is not None:  # the view said (/.well-known/gpc.json: a day)
        return response.headers["Cache-Control"]
    if shared_copy_allowed(response):
        response.headers["Vary"] = VARIES_ON
        return f"public, max-age=0, s-maxage={current_app.config['PAGE_CACHE_SECONDS']}"
    if request.endpoint in CACHEABLE_PAGES:  # this visitor's own answer, but still one that varies so
        response.vary.update(name.strip() for name in VARIES_ON.split(","))
    return "private, no-store"


def set_security_headers(response):
    """Add the security and cache headers to a response (each replaces one the view may have set)."""
    static = request.endpoint == "static"
    private = not static and not public_page()
    headers = response.headers
    headers["Content-Security-Policy"] = content_security_policy()
    for name, value in FIXED_HEADERS:
        headers[name] = value
    headers["Referrer-Policy"] = "no-referrer" if private else "strict-origin-when-cross-origin"
    if current_app.config["HSTS"]:
        headers[HSTS_HEADER[0]] = HSTS_HEADER[1]
    if not static:
        headers["Cache-Control"] = cache_control(response)
    return response


def init_app(app: Flask) -> None:
    """Register the inline-code helper for templates and the header hook."""
    app.jinja_env.globals.update(csp_inline=csp_inline)
    app.after_request(set_security_headers)
