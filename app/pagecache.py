"""Public pages rendered once per variant and kept a few seconds in the process (Flask-Caching): the same bytes a
shared cache in front (deploy/nginx.conf) keeps, for a site run without one. A page here has no per-visitor bytes,
so what is kept is the whole rendered page with the CSP sources it needs; nothing is spliced into it."""

from collections.abc import Callable, Hashable
from functools import wraps

from flask import Flask, current_app, g, request, session

from app.extensions import cache

VARIANTS = "kinv.page_variants"  # in app.extensions: what else pages depend on (consent's variant, ...)


def vary_on(app: Flask, variant: Callable[[], Hashable]) -> None:
    """Add something public pages depend on besides their address (create_app wires each feature's)."""
    app.extensions.setdefault(VARIANTS, []).append(variant)


def page_key() -> str | None:
    """The kept page's key for this request, or None when its page must be made afresh (a message waiting in the
    session; a query string: unbounded keys)."""
    asked = request._get_current_object()
    if asked.method not in ("GET", "HEAD") or asked.query_string or (
            current_app.config["SESSION_COOKIE_NAME"] in asked.cookies and session.get("_flashes")):
        return None
    variants = tuple(variant() for variant in current_app.extensions.get(VARIANTS, ()))
    return repr(("page", asked.scheme, asked.host, asked.script_root, asked.path, variants))


def cached_page(view: Callable) -> Callable:
    """Serve a public page from the process's copy when one is kept for its key; else render it and keep it."""

    @wraps(view)
    def serve(*args, **kwargs):
        key = page_key() if current_app.config["PAGE_CACHE_SECONDS"] > 0 else None
        kept = cache.get(key) if key else None
        if kept is not None:
            html, g.csp_hashes, g.csp_extra = kept
            return html
        answer = view(*args, **kwargs)
        if key and isinstance(answer, str):  # a page, not a redirect or an error
            cache.set(key, (answer, g.get("csp_hashes", {}), g.get("csp_extra", {})),
                      timeout=current_app.config["PAGE_CACHE_SECONDS"])
        return answer

    return serve
