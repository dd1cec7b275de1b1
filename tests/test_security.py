"""Security baseline: headers, CSP hashes, cookies, cross-origin protection, CSRF on staff forms, error pages."""

import base64
import hashlib
import re

import pytest
from flask import url_for
from werkzeug.routing.converters import NumberConverter

INLINE = re.compile(r"<(script|style)(?![^>]*\bsrc=)[^>]*>(.*?)</\1>", re.DOTALL)


def sha256_source(code: str) -> str:
    """The CSP source of a piece of inline code, computed here with hashlib."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(code.encode()).digest()).decode() + "'"


def directive(csp: str, name: str) -> list[str]:
    """The sources of one CSP directive."""
    return next(part.split()[1:] for part in csp.split(";") if part.split() and part.split()[0] == name)


def test_security_headers_on_every_response(client, policy):
    for url in ("/", "/confidentialite", "/en/privacy", "/page-inconnue"):
        headers = client.get(url).headers
        csp = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp
        assert "'unsafe-inline'" not in directive(csp, "script-src") and "nonce-" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == ("no-referrer" if url == "/page-inconnue" else
                                              "strict-origin-when-cross-origin")
        assert "camera=()" in headers["Permissions-Policy"]
        assert "Strict-Transport-Security" not in headers


@pytest.mark.parametrize(("url", "styles"), [("/confidentialite", 1), ("/cookies", 2), ("/page-inconnue", 1),
                                             ("/contact", 1), ("/newsletter", 1)])
def test_inline_code_runs_by_its_hash_and_pages_are_the_same_for_everyone(client, policy, url, styles):
    first, second = client.get(url), client.get(url)
    html, csp = first.get_data(as_text=True), first.headers["Content-Security-Policy"]
    inline = INLINE.findall(html)
    assert [kind for kind, _code in inline].count("style") == styles and inline
    for kind, code in inline:
        assert sha256_source(code) in directive(csp, f"{kind}-src"), (kind, code[:60])
    assert re.findall(r"<style[^>]*>", html) == ["<style>"] * styles and " nonce=" not in html
    assert 'rel="stylesheet"' not in html.split("</head>")[0] and ":root {" in html
    assert second.get_data() == first.get_data()  # no nonce, no token: the same bytes every time
    assert second.headers["Content-Security-Policy"] == csp


def test_production_adds_hsts_and_secure_cookies(make_app):
    app = make_app(HSTS=True, SESSION_COOKIE_SECURE=True)
    response = app.test_client().get("/")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert app.config["SESSION_COOKIE_HTTPONLY"] and app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


@pytest.mark.parametrize(
    ("url", "code", "french", "english_url", "english"),
    [
        ("/page-inconnue", 404, "Page introuvable", "/en/unknown-page", "Page not found"),
        ("/confidentialite/versions/999", 404, "Page introuvable", "/en/privacy/versions/999", "Page not found"),
    ],
)
def test_error_pages_in_the_visitors_language(client, policy, url, code, french, english_url, english):
    response = client.get(url)
    assert response.status_code == code and french in response.get_data(as_text=True)
    assert 'class="site-footer"' in response.get_data(as_text=True)
    response = client.get(english_url)
    assert response.status_code == code and english in response.get_data(as_text=True)


def test_403_page_in_english(make_app):
    from flask import abort

    app = make_app()

    @app.get("/en/forbidden-test")
    def forbidden():
        abort(403)

    response = app.test_client().get("/en/forbidden-test")
    assert response.status_code == 403 and "Access denied" in response.get_data(as_text=True)


def test_405_page(client, policy):
    response = client.post("/confidentialite")
    assert response.status_code == 405 and "Méthode non autorisée" in response.get_data(as_text=True)


def test_500_page_rolls_back_and_shows_the_layout(make_app):
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.get("/boom")
    def boom():
        raise RuntimeError("boom")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert "Erreur du serveur" in response.get_data(as_text=True)


def test_a_staff_form_without_its_csrf_token_is_a_clear_400(client):
    response = client.post("/admin/connexion", data={"email": "dpo@example.fr", "password": "x" * 14})
    assert response.status_code == 400
    assert "Le formulaire a expiré" in response.get_data(as_text=True)


def test_429_page(make_app):
    from app.extensions import limiter

    app = make_app()

    @app.get("/limite-test")
    @limiter.limit("1/minute")
    def limited():
        return "ok"

    client = app.test_client()
    assert client.get("/limite-test").status_code == 200
    response = client.get("/limite-test")
    assert response.status_code == 429 and "Trop de requêtes" in response.get_data(as_text=True)


def post_routes(app):
    """Every route that takes a POST, with a URL for it and its blueprint."""
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods:
            continue
        with app.test_request_context():
            url = url_for(rule.endpoint, **{name: 1 if isinstance(rule._converters[name], NumberConverter) else "x"
                                            for name in rule.arguments if name not in (rule.defaults or {})})
        yield url, rule.endpoint.split(".")[0]


def test_every_staff_post_without_its_token_is_refused_before_the_view(app, client):
    staff = [url for url, blueprint in post_routes(app) if blueprint in ("auth", "backoffice")]
    for url in staff:
        response = client.post(url, data={"email": "jeanne@example.fr"})
        assert response.status_code == 400 and "Le formulaire a expiré" in response.get_data(as_text=True), url
    assert len(staff) >= 6


@pytest.mark.parametrize("headers", [{"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
                                     {"Origin": "https://attacker.example"}, {"Origin": "null"},
                                     {"Sec-Fetch-Site": "cross-site", "Origin": "http://localhost"}])
def test_every_post_sent_by_another_site_is_refused_before_the_view(app, client, headers):
    routes = list(post_routes(app))
    for url, _blueprint in routes:
        response = client.post(url, data={"email": "jeanne@example.fr"}, headers=headers)
        assert response.status_code == 403, url
        assert "envoyé depuis un autre site" in response.get_data(as_text=True), url
    assert len(routes) >= 25


@pytest.mark.parametrize("headers", [{}, {"Sec-Fetch-Site": "same-origin"}, {"Sec-Fetch-Site": "none"},
                                     {"Origin": "http://localhost"}])
def test_posts_from_the_site_itself_or_from_no_browser_reach_the_view(client, policy, headers):
    response = client.post("/cookies/choix", data={"choice": "refuse_all", "next": "/"}, headers=headers)
    assert response.status_code == 303 and "kinv_consent=" in response.headers.get("Set-Cookie", "")
