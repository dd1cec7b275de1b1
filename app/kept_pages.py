"""Shared pages answered before Flask: Flask's whole answer to a plain request for a shared page (see
`app.templating.render_shared`) is kept for a moment, headers included, and the next plain requests for that page
get it with only their nonce, CSRF token (with the session cookie holding its secret) and request id made afresh —
no request context, no hooks, no template.

A plain request is a GET without a query string, without a header that changes pages (Sec-GPC), whose only cookies
are those features declare (the consent cookie: its variant, not its value, is part of the key). The key also holds
the scheme, host, path and Accept-Language. Every other request, and the first one for each page and variant, goes
through Flask; its answer is kept when it is a shared page answered 200 setting no cookie but a new session that
holds a CSRF secret and nothing else. An answer is kept KEPT_PAGE_SECONDS (0 turns this off), so no page lags
longer than that behind what Flask would answer; a process that publishes a policy forgets its pages at once.
Observers (the metrics, the request log) hear of every request answered here.
"""

import re
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from flask import Flask
from werkzeug.http import parse_cookie

from app.security import CSRF_FIELD, new_nonce, new_visit_with_token, only_csrf_secret
from app.templating import SHARED_PAGE, SharedServing

KEPT = "kinv.kept_pages"
MAX_KEPT = 512
NONCE, TOKEN, VISIT = "nonce", "token", "visit"  # the holes every answer may have (a fresh header is another)
# What features declare: cookies a kept page may be served with (name -> its variant), request headers that send a
# request to Flask, response headers made afresh for each request (lower-case name -> maker), observers.
COOKIE_VARIANTS: dict[str, Callable[[Flask, str], Hashable]] = {}
FLASK_ONLY_HEADERS: set[str] = set()
FRESH_HEADERS: dict[str, Callable[[dict], str]] = {}
OBSERVERS: list[Callable[["Served"], None]] = []


def vary_on_cookie(name: str, variant: Callable[[Flask, str], Hashable]) -> None:
    """Serve kept pages to requests with this cookie, one page per variant of its value."""
    COOKIE_VARIANTS[name] = variant


def flask_only_with(header: str) -> None:
    """Send every request with this header (as a WSGI environ key: HTTP_SEC_GPC) to Flask."""
    FLASK_ONLY_HEADERS.add(header)


def fresh_header(name: str, make: Callable[[dict], str]) -> None:
    """Make this response header afresh for each request served a kept page (from its WSGI environ)."""
    FRESH_HEADERS[name.lower()] = make


def on_served(observer: Callable[["Served"], None]) -> None:
    """Tell this observer of every request answered with a kept page."""
    if observer not in OBSERVERS:
        OBSERVERS.append(observer)


@dataclass(frozen=True)
class Served:
    """A request answered with a kept page, as observers hear of it."""

    app: Flask
    endpoint: str
    route: str
    lang: str
    seconds: float
    headers: dict[str, str]  # the headers made for this request, by lower-case name
    method: str = "GET"
    status: int = 200


@dataclass(frozen=True)
class KeptPage:
    """An answer cut where each request's own values go: literal, hole, literal, …, literal."""

    status: str
    headers: tuple[tuple[str, tuple[str, ...]], ...]  # without Content-Length
    body: tuple[bytes, ...]
    holes: frozenset[str]
    endpoint: str
    route: str
    lang: str
    until: float


class KeptPages:
    """The WSGI layer in front of Flask's that keeps and serves shared pages (see the module's docstring)."""

    def __init__(self, app: Flask, wsgi_app: Callable) -> None:
        """Wrap the app's WSGI callable."""
        self.app, self.wsgi_app, self.pages = app, wsgi_app, {}

    def __call__(self, environ: dict, start_response: Callable):
        """A kept page when there is one for this plain request, else Flask's answer (kept when it may be)."""
        key = self.key(environ)
        if key is None:
            return self.wsgi_app(environ, start_response)
        page = self.pages.get(key)
        if page is not None and page.until > time.monotonic():
            return self.serve(page, environ, start_response)
        return self.answer_and_keep(key, environ, start_response)

    def key(self, environ: dict) -> tuple | None:
        """What a kept page for this request depends on, or None when the request is not plain."""
        if environ.get("REQUEST_METHOD") != "GET" or environ.get("QUERY_STRING") or any(
                header in environ for header in FLASK_ONLY_HEADERS) or not self.app.config.get("KEPT_PAGE_SECONDS"):
            return None
        cookies = self.cookie_variants(environ.get("HTTP_COOKIE"))
        if cookies is None:
            return None
        host = environ.get("HTTP_HOST") or (environ.get("SERVER_NAME"), environ.get("SERVER_PORT"))
        return (environ.get("wsgi.url_scheme"), host, environ.get("SCRIPT_NAME", ""), environ.get("PATH_INFO", ""),
                environ.get("HTTP_ACCEPT_LANGUAGE"), cookies)

    def cookie_variants(self, header: str | None) -> tuple | None:
        """Each declared cookie's variant, or None when the request has another cookie or one twice."""
        if not header:
            return ()
        variants = []
        for name, values in parse_cookie(header).lists():
            variant = COOKIE_VARIANTS.get(name)
            if variant is None or len(values) != 1:
                return None
            variants.append((name, variant(self.app, values[0])))
        return tuple(sorted(variants, key=lambda pair: pair[0]))

    def serve(self, page: KeptPage, environ: dict, start_response: Callable) -> list[bytes]:
        """The kept answer with this request's own values in its holes."""
        started = time.perf_counter()
        values = self.fresh_values(page.holes, environ)
        body = fill(page.body, {name: value.encode() for name, value in values.items()})
        headers = [(name, fill(pieces, values)) for name, pieces in page.headers]
        headers.append(("Content-Length", str(len(body))))
        start_response(page.status, headers)
        served = Served(self.app, page.endpoint, page.route, page.lang, time.perf_counter() - started,
                        {name: values[name] for name in FRESH_HEADERS if name in values})
        for observer in OBSERVERS:
            observer(served)
        return [body]

    def fresh_values(self, holes: frozenset[str], environ: dict) -> dict[str, str]:
        """This request's nonce, CSRF token and session, and fresh headers, for the holes the page has."""
        values = {}
        if NONCE in holes:
            values[NONCE] = new_nonce()
        if TOKEN in holes or VISIT in holes:
            values[TOKEN], values[VISIT] = new_visit_with_token(self.app)
        for name, make in FRESH_HEADERS.items():
            if name in holes:
                values[name] = make(environ)
        return values

    def answer_and_keep(self, key: tuple, environ: dict, start_response: Callable):
        """Flask's answer, kept for the next requests with this key when it may be."""
        answered = []

        def catch(status, headers, exc_info=None):
            answered[:] = [status, headers]
            return start_response(status, headers, exc_info)

        body = self.wsgi_app(environ, catch)
        shared = environ.get(SHARED_PAGE)
        if shared is None or not answered or not answered[0].startswith("200 "):
            return body
        try:
            content = b"".join(body)
        finally:
            getattr(body, "close", lambda: None)()
        page = self.kept_answer(shared, *answered, content)
        if page is not None:
            if len(self.pages) >= MAX_KEPT:
                self.pages.clear()
            self.pages[key] = page
        return [content]

    def kept_answer(self, shared: SharedServing, status: str, headers: list, content: bytes) -> KeptPage | None:
        """The answer cut at its nonce, token, session cookie and fresh headers; None when it may not be kept."""
        made = shared.values
        values = {name: value for name, value in ((NONCE, made.get("csp_nonce")), (TOKEN, made.get(CSRF_FIELD)))
                  if value}
        kept = []
        for name, value in headers:
            lower = name.lower()
            if lower == "content-length":
                continue
            if lower in FRESH_HEADERS:
                kept.append((name, ("", lower, "")))
            elif lower == "set-cookie":
                visit = self.new_visit(value)
                if visit is None or VISIT in values:
                    return None  # a cookie other than a first session holding a CSRF secret only
                values[VISIT] = visit
                kept.append((name, cut(value, {VISIT: visit})))
            else:
                kept.append((name, cut(value, values)))
        if TOKEN in values and VISIT not in values:
            return None  # (a token whose secret is not in a new session: never made for a plain request)
        body = cut(content, {name: values[name].encode() for name in (NONCE, TOKEN) if name in values})
        holes = {piece for _name, pieces in kept for piece in pieces[1::2]} | set(body[1::2])
        return KeptPage(status, tuple(kept), body, frozenset(holes), shared.endpoint, shared.route, shared.lang,
                        time.monotonic() + self.app.config.get("KEPT_PAGE_SECONDS", 0))

    def new_visit(self, set_cookie: str) -> str | None:
        """The value of a Set-Cookie header starting a session that holds a CSRF secret only, else None."""
        prefix = self.app.config["SESSION_COOKIE_NAME"] + "="
        value = set_cookie[len(prefix):].split(";", 1)[0] if set_cookie.startswith(prefix) else ""
        return value if value and only_csrf_secret(self.app, value) else None


def cut(text, values: dict):
    """Text (str or bytes) cut where each value stands: literal, hole name, literal, …, literal."""
    present = {value: name for name, value in values.items() if value in text}
    if not present:
        return (text,)
    pattern = re.compile((b"|" if isinstance(text, bytes) else "|").join(re.escape(value) for value in present))
    pieces, start = [], 0
    for match in pattern.finditer(text):
        pieces += [text[start:match.start()], present[match.group()]]
        start = match.end()
    return (*pieces, text[start:])


def fill(pieces: tuple, values: dict):
    """Literal pieces joined with the holes' values."""
    if len(pieces) == 1:
        return pieces[0]
    parts = list(pieces)
    parts[1::2] = [values[name] for name in pieces[1::2]]
    return type(pieces[0])().join(parts)


def forget(app: Flask) -> None:
    """Forget every kept page of this process (its content changed)."""
    kept = app.extensions.get(KEPT)
    if kept is not None:
        kept.pages.clear()


def init_app(app: Flask) -> None:
    """Put the kept pages in front of the app's WSGI callable (inside any proxy fix, which must see the request
    first)."""
    app.wsgi_app = app.extensions[KEPT] = KeptPages(app, app.wsgi_app)
