"""Shared pages answered before Flask: what a visitor gets is what Flask would have answered, with their own nonce,
CSRF token, session and request id; anything that is not a plain page request still goes through Flask."""

import json
import re
import time

import pytest
from flask import request_started
from flask.sessions import SecureCookieSessionInterface
from hypothesis import given
from hypothesis import strategies as st

from app.consent.register import CONSENT_COOKIE
from app.policy.services import publish
from tests.conftest import csrf_token
from tests.support.consent import choose
from tests.test_ops import TOKEN, sample
from tests.test_shared_pages import PAGES

NONCE = re.compile(r"'nonce-([^']+)'")
TOKEN_FIELD = re.compile(r'(name="csrf_token"(?: type="hidden")? value=")([^"]+)(")')


@pytest.fixture
def through_flask():
    """How many requests Flask itself handled (a kept page never starts a Flask request)."""
    handled = []

    def note(sender, **_extra):
        handled.append(1)

    request_started.connect(note)
    yield handled
    request_started.disconnect(note)


def consent_cookie(app, choice: str = "refuse_all") -> str:
    """The consent cookie a visitor gets for a choice, from the site's own answer."""
    client = app.test_client()
    choose(client, choice, page="/confidentialite")
    return client.get_cookie(CONSENT_COOKIE).value


def visit(app, path: str, cookie: str | None = None, **headers):
    """A first request by a new visitor (no session), with or without a consent cookie."""
    if cookie:
        headers["Cookie"] = f"{CONSENT_COOKIE}={cookie}"
    return app.test_client(use_cookies=False).get(path, headers=headers)


def rendered(path: str, cookie: str | None, *apps) -> None:
    """Have each app render the page once (the render itself leaves Flask-Login's mark in the session it starts)."""
    for app in apps:
        visit(app, path, cookie)


def comparable(response) -> tuple:
    """A response with this request's own nonce, CSRF token and session value blanked."""
    nonce = NONCE.search(response.headers["Content-Security-Policy"]).group(1)
    body = TOKEN_FIELD.sub(r"\1TOKEN\3", response.get_data(as_text=True).replace(nonce, "NONCE"))
    headers = [(name, re.sub(r"^session=[^;]+", "session=VALUE", value.replace(nonce, "NONCE")))
               for name, value in response.headers if name not in ("Content-Length", "X-Request-ID")]
    return response.status_code, headers, body


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("with_consent", [False, True], ids=["no cookie", "consent cookie"])
def test_a_kept_page_is_what_flask_answers_with_its_own_values(make_app, policy, through_flask, path, with_consent):
    app, flask_only = make_app(), make_app(KEPT_PAGE_SECONDS=0)
    cookie = consent_cookie(app) if with_consent else None
    rendered(path, cookie, app, flask_only)
    from_flask = visit(flask_only, path, cookie)
    visit(app, path, cookie)
    handled = len(through_flask)
    kept = visit(app, path, cookie)
    keepable = not (with_consent and path.endswith("cookies"))  # the visitor's own choice: never shared
    assert len(through_flask) - handled == (0 if keepable else 1)
    assert comparable(kept) == comparable(from_flask)
    assert NONCE.search(kept.headers["Content-Security-Policy"]).group(1) != NONCE.search(
        from_flask.headers["Content-Security-Policy"]).group(1)
    assert int(kept.headers["Content-Length"]) == len(kept.get_data())


def test_a_kept_banner_gives_a_token_and_session_that_record_a_choice(make_app, policy, through_flask):
    app = make_app()
    visit(app, "/")  # Flask answers, the page is kept
    visitor = app.test_client()
    page = visitor.get("/")
    tokens = {csrf_token(page.get_data(as_text=True)), csrf_token(visit(app, "/").get_data(as_text=True))}
    assert len(tokens) == 2 and len(through_flask) == 1  # two kept answers, each with its own token
    session = SecureCookieSessionInterface().get_signing_serializer(app).loads(
        visitor.get_cookie(app.config["SESSION_COOKIE_NAME"]).value)  # Flask's own reading of the cookie
    assert list(session) == ["csrf_token"]
    token = csrf_token(page.get_data(as_text=True))
    chosen = visitor.post("/cookies/choix", data={"csrf_token": token, "choice": "accept_all", "next": "/"})
    assert chosen.status_code == 303 and f"{CONSENT_COOKIE}=" in chosen.headers["Set-Cookie"]
    assert app.test_client().post("/cookies/choix", data={"csrf_token": token, "choice": "accept_all"}
                                  ).status_code == 400  # the token is good with its own session only


@pytest.mark.parametrize("asked", [
    {"query_string": "lang=en"}, {"headers": {"Sec-GPC": "1"}}, {"headers": {"Cookie": "_ga=GA1.2.3"}},
    {"headers": {"Cookie": "session=forged"}}, {"method": "HEAD"},
], ids=["query string", "GPC", "another cookie", "a session", "HEAD"])
def test_requests_that_are_not_plain_go_through_flask(make_app, policy, through_flask, asked):
    app = make_app()
    visit(app, "/confidentialite")
    handled = len(through_flask)
    app.test_client(use_cookies=False).open("/confidentialite", **asked)
    assert len(through_flask) == handled + 1


def test_a_refused_cookie_is_still_expired_on_a_kept_page(make_app, policy):
    app = make_app()
    cookie = consent_cookie(app)
    visit(app, "/confidentialite", cookie)
    client = app.test_client(use_cookies=False)
    answer = client.get("/confidentialite", headers={"Cookie": f"{CONSENT_COOKIE}={cookie}; _ga=GA1.2.3"})
    expired = [value for name, value in answer.headers if name == "Set-Cookie"]
    assert any(value.startswith("_ga=;") for value in expired)


def test_each_choice_gets_its_own_kept_page(make_app, policy, through_flask):
    app = make_app()
    accepted, refused = consent_cookie(app, "accept_all"), consent_cookie(app, "refuse_all")
    rounds, handled = [], []
    for _ in range(2):
        rounds.append([comparable(visit(app, "/confidentialite", cookie)) for cookie in (accepted, refused, None)])
        handled.append(len(through_flask))
    assert handled[0] == handled[1]  # the second round is all kept pages
    assert rounds[0] == rounds[1]
    with_tags, without, banner = (page for _status, _headers, page in rounds[1])
    assert 'id="cc"' in banner and 'id="cc"' not in with_tags and 'id="cc"' not in without
    assert with_tags != without


def test_a_kept_page_lasts_its_seconds_then_flask_answers_again(make_app, policy, through_flask):
    app = make_app(KEPT_PAGE_SECONDS=0.3)
    visit(app, "/")
    visit(app, "/")
    assert len(through_flask) == 1
    time.sleep(0.35)
    visit(app, "/")
    assert len(through_flask) == 2
    off = make_app(KEPT_PAGE_SECONDS=0)
    for _ in range(2):
        visit(off, "/")
    assert len(through_flask) == 4


def test_a_version_published_elsewhere_shows_within_the_seconds_and_here_at_once(make_app, app, policy):
    worker = make_app(KEPT_PAGE_SECONDS=0.3, POLICY_RECHECK_SECONDS=0.3)
    for _ in range(2):
        assert "Version</dt><dd>1<" in visit(worker, "/confidentialite").get_data(as_text=True)
    publish(policy.text_fr.replace("K-Inventory", "K-Inventory.com", 1), "Précision du nom du site.")
    assert "Version</dt><dd>2<" in visit(app, "/confidentialite").get_data(as_text=True)  # the publishing process
    time.sleep(0.65)
    assert "Version</dt><dd>2<" in visit(worker, "/confidentialite").get_data(as_text=True)


def test_kept_pages_are_counted_and_logged_as_any_other(make_app, policy, app_logger, capsys):
    app = make_app(METRICS_TOKEN=TOKEN, LOG_FORMAT="json")
    scrape, shown = {"Authorization": f"Bearer {TOKEN}"}, {"endpoint": "policy.show", "method": "GET", "status": "200"}
    before = sample(app.test_client().get("/metrics", headers=scrape).get_data(as_text=True),
                    "kinv_http_requests_total", 0, **shown)
    capsys.readouterr()
    answers = [visit(app, "/confidentialite", **{"X-Request-ID": "proxy-id-12345678"}), visit(app, "/confidentialite")]
    text = app.test_client().get("/metrics", headers=scrape).get_data(as_text=True)
    assert sample(text, "kinv_http_requests_total", **shown) - before == 2
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith('{"')]
    requests = [line for line in lines if line["message"] == "request" and line["endpoint"] == "policy.show"]
    assert [line["request_id"] for line in requests] == [answer.headers["X-Request-ID"] for answer in answers]
    assert requests[0]["request_id"] == "proxy-id-12345678" and len(requests[1]["request_id"]) == 32
    assert requests[1]["route"] == "/confidentialite" and requests[1]["lang"] == "fr"


def test_a_request_id_that_matches_page_text_changes_nobody_else_s_page(make_app, policy, app_logger):
    app = make_app(LOG_FORMAT="json")
    baseline = comparable(visit(app, "/confidentialite"))
    for given_id in ("same-origin", "no-referrer", "confidentialite", "K-Inventory"):
        visit(app, "/confidentialite", **{"X-Request-ID": given_id})
        assert comparable(visit(app, "/confidentialite")) == baseline


@pytest.fixture
def kept_and_flask_only(make_app, policy):
    """The site twice: with kept pages, and with every request through Flask."""
    return make_app(), make_app(KEPT_PAGE_SECONDS=0)


@pytest.mark.fuzz
@given(cookie=st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60),
       language=st.sampled_from(["", "en", "en-GB,en;q=0.9", "fr-FR,fr;q=0.8", "de, *;q=0.1", "xx;q=zz"]),
       path=st.sampled_from(["/confidentialite", "/en/privacy", "/", "/contact", "/newsletter", "/en/newsletter"]))
def test_whatever_the_cookie_and_language_the_answer_is_flask_s(kept_and_flask_only, cookie, language, path):
    kept, flask_only = kept_and_flask_only
    headers = {"Cookie": cookie, "Accept-Language": language}
    answers = [app.test_client(use_cookies=False).get(path, headers=headers) for app in (kept, kept, flask_only)]
    assert all(answer.status_code == 200 for answer in answers)
    assert comparable(answers[1]) == comparable(answers[2]) == comparable(answers[0])
