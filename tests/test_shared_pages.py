"""Pages rendered once and served many times: the same bytes as before, each visitor's own nonce and CSRF token."""

import re

import pytest
from flask import session
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import validate_csrf

from app import templating
from app.i18n import french_typography
from app.policy.services import publish
from tests.conftest import csrf_token

NONCE = re.compile(r'nonce="([^"]+)"')
PAGES = ["/confidentialite", "/en/privacy", "/", "/cookies", "/contact", "/newsletter", "/en/newsletter"]


def without_per_request_values(html: str) -> str:
    """A page with its nonces and CSRF tokens blanked."""
    html = NONCE.sub('nonce=""', html)
    return re.sub(r'name="csrf_token"( type="hidden")? value="[^"]+"', 'name="csrf_token" value=""', html)


@pytest.fixture
def counted_typography(monkeypatch):
    """How many times the `typo` filter typesets a text."""
    calls = []

    def counting(text: str) -> str:
        calls.append(text)
        return french_typography(text)

    monkeypatch.setattr(templating, "french_typography", counting)
    return calls


def test_the_policy_is_typeset_once_not_per_request(client, policy, counted_typography):
    first = client.get("/confidentialite").get_data(as_text=True)
    typeset = len(counted_typography)
    assert typeset > 50  # every title, paragraph and list item of the policy
    again = client.get("/confidentialite").get_data(as_text=True)
    assert len(counted_typography) == typeset
    assert without_per_request_values(again) == without_per_request_values(first)
    assert "\u202f;" in again or "\u202f?" in again


@pytest.mark.parametrize("path", PAGES)
def test_each_response_has_its_own_nonce_matching_its_csp(make_app, policy, path):
    client = make_app().test_client()
    nonces = []
    for _ in range(2):
        response = client.get(path)
        assert response.status_code == 200
        in_page = set(NONCE.findall(response.get_data(as_text=True)))
        assert len(in_page) == 1, in_page
        nonce = in_page.pop()
        assert f"'nonce-{nonce}'" in response.headers["Content-Security-Policy"]
        assert templating.NONCE_MARK not in nonce
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


@pytest.mark.parametrize("path", ["/confidentialite", "/contact", "/newsletter", "/cookies"])
def test_a_visitor_posts_with_their_own_token_from_a_page_rendered_for_another(make_app, policy, path):
    app = make_app()
    first, second = app.test_client(), app.test_client()
    token_first = csrf_token(first.get(path).get_data(as_text=True))
    token_second = csrf_token(second.get(path).get_data(as_text=True))
    assert token_first != token_second and templating.CSRF_MARK not in token_second
    response = second.post("/cookies/choix", data={"csrf_token": token_second, "choice": "refuse_all",
                                                   "next": path})
    assert response.status_code == 303 and response.headers["Location"].endswith(path)
    assert "kinv_consent=" in response.headers["Set-Cookie"]
    refused = first.post("/cookies/choix", data={"csrf_token": token_second, "choice": "refuse_all"})
    assert refused.status_code == 400  # a token is good for its own session only


def test_the_banner_goes_once_chosen_and_the_flash_is_for_the_chooser_only(client, app, policy):
    other = app.test_client()
    assert 'id="cc"' in other.get("/confidentialite").get_data(as_text=True)
    token = csrf_token(client.get("/confidentialite").get_data(as_text=True))
    client.post("/cookies/choix", data={"csrf_token": token, "choice": "accept_all", "next": "/confidentialite"})
    after = client.get("/confidentialite").get_data(as_text=True)
    assert 'id="cc"' not in after and "Vos choix en matière de cookies sont enregistrés" in after
    assert "sont enregistrés" not in client.get("/confidentialite").get_data(as_text=True)
    still = other.get("/confidentialite").get_data(as_text=True)
    assert 'id="cc"' in still and "sont enregistrés" not in still


def test_a_new_version_is_served_at_once(client, app, policy):
    assert "Version</dt><dd>1<" in client.get("/confidentialite").get_data(as_text=True)
    with app.app_context():
        publish(policy.text_fr.replace("K-Inventory", "K-Inventory.com", 1), "Précision du nom du site.")
    html = client.get("/confidentialite").get_data(as_text=True)
    assert "Version</dt><dd>2<" in html
    old = client.get("/confidentialite/versions/1").get_data(as_text=True)
    assert "Cette version n’est plus en vigueur." in old


def test_pages_with_a_query_string_are_rendered_afresh(client, policy):
    html = client.get("/cookies?next=/contact").get_data(as_text=True)
    assert 'name="next" value="/contact"' in html
    assert 'name="next" value=""' in client.get("/cookies").get_data(as_text=True)


def test_the_session_and_token_a_page_gives_read_with_flask_and_flask_wtf_own_code(app, client, policy):
    token = csrf_token(client.get("/confidentialite").get_data(as_text=True))
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    stock = SecureCookieSessionInterface().get_signing_serializer(app)
    raw = stock.loads(cookie)["csrf_token"]
    with app.test_request_context("/"):
        session["csrf_token"] = raw
        validate_csrf(token)  # raises when Flask-WTF does not recognise the token
