"""Security baseline: headers, nonce, cookies, CSRF and error pages."""

import re

import pytest
from flask import url_for
from werkzeug.routing.converters import NumberConverter

from app.extensions import csrf


def test_security_headers_on_every_response(client, policy):
    for url in ("/", "/confidentialite", "/en/privacy", "/page-inconnue"):
        headers = client.get(url).headers
        csp = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp
        assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
        assert re.search(r"script-src [^;]*'nonce-[\w-]+'", csp)
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == ("no-referrer" if url == "/page-inconnue" else
                                              "strict-origin-when-cross-origin")
        assert "camera=()" in headers["Permissions-Policy"]
        assert "Strict-Transport-Security" not in headers


def test_nonce_changes_on_every_request(client, policy):
    nonces = {re.search(r"'nonce-([\w-]+)'", client.get("/").headers["Content-Security-Policy"]).group(1)
              for _ in range(3)}
    assert len(nonces) == 3


@pytest.mark.parametrize(("url", "styles"), [("/confidentialite", 1), ("/cookies", 2), ("/page-inconnue", 1)])
def test_stylesheets_are_inline_with_each_responses_nonce(client, policy, url, styles):
    seen = set()
    for _ in range(2):  # the second answer comes from the shared-page cache, with a nonce of its own
        response = client.get(url)
        html, csp = response.get_data(as_text=True), response.headers["Content-Security-Policy"]
        nonce = re.search(r"script-src [^;]*'nonce-([\w-]+)'", csp).group(1)
        assert f"style-src 'self' 'nonce-{nonce}';" in csp
        assert re.findall(r"<style[^>]*>", html) == [f'<style nonce="{nonce}">'] * styles
        assert 'rel="stylesheet"' not in html.split("</head>")[0] and ":root {" in html
        seen.add(nonce)
    assert len(seen) == 2


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


def test_csrf_failure_is_a_clear_400(make_app):
    from flask_wtf import FlaskForm

    app = make_app()

    @app.post("/formulaire-test")
    def form_view():
        FlaskForm().validate_on_submit()
        return "ok"

    response = app.test_client().post("/formulaire-test", data={"x": "1"})
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


def test_every_form_post_without_its_token_is_refused_before_the_view(make_app):
    app = make_app()
    client = app.test_client()
    exempt = {f"{view.__module__}.{view.__name__}" for view in app.view_functions.values()} & csrf._exempt_views
    checked = 0
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if "POST" not in rule.methods or f"{view.__module__}.{view.__name__}" in exempt:
            continue
        with app.test_request_context():
            url = url_for(rule.endpoint, **{name: 1 if isinstance(rule._converters[name], NumberConverter) else "x"
                                            for name in rule.arguments if name not in (rule.defaults or {})})
        response = client.post(url, data={"email": "jeanne@example.fr"})
        assert response.status_code == 400 and "Le formulaire a expiré" in response.get_data(as_text=True), url
        checked += 1
    assert checked >= 15
