"""Security headers on every response: a per-request CSP nonce, framing and referrer rules, HSTS."""

import secrets

from flask import Flask, current_app, g

PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=(), interest-cohort=()"
)
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


def csp_nonce() -> str:
    """The nonce every inline script of this response must carry."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def allow_sources(directive: str, *sources: str) -> None:
    """Let this response load from extra hosts (a consented tag, the captcha widget)."""
    extra = g.setdefault("csp_extra", {})
    extra.setdefault(directive, []).extend(sources)


def content_security_policy() -> str:
    """Compose the policy: the strict base, the nonce, and the sources this response allowed."""
    directives = {name: list(values) for name, values in BASE_CSP.items()}
    for name, values in g.get("csp_extra", {}).items():
        current = [v for v in directives.get(name, []) if v != "'none'"]
        directives[name] = current + [v for v in values if v not in current]
    directives["script-src"].append(f"'nonce-{csp_nonce()}'")
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def set_security_headers(response):
    """Add the security headers to a response."""
    headers = response.headers
    headers["Content-Security-Policy"] = content_security_policy()
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    headers["Permissions-Policy"] = PERMISSIONS_POLICY
    headers["X-Frame-Options"] = "DENY"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if current_app.config["HSTS"]:
        headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    return response


def no_store(response):
    """Pages that hold personal data: never cached (an after-request hook for such blueprints)."""
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """Register the nonce helper for templates and the header hook."""
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.after_request(set_security_headers)
