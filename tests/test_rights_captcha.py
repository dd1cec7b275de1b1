"""The contact form's anti-spam check against a real siteverify stand-in on loopback (pytest-httpserver)."""

import json
import logging
import re
import socket
import threading

import pytest
from flask import render_template, request
from werkzeug import Response

from app.rights import captcha
from tests.test_security import sha256_source

SITE_KEY = "site-key-for-tests"
SECRET = "secret-key-for-tests-0123456789abcdef"
TOKEN = "token-from-the-widget-abcdef"
IP = "203.0.113.7"
HOST = "k-inventory.com"
PATH = "/siteverify"
V2_OK = {"success": True, "hostname": HOST, "challenge_ts": "2026-01-31T10:00:00Z"}
V3_OK = {**V2_OK, "action": "contact", "score": 0.9}


@pytest.fixture
def captcha_app(make_app, httpserver):
    """Build an app whose siteverify is the loopback stand-in, with keys and an expected hostname."""

    def build(**overrides):
        settings = {
            "CAPTCHA_PROVIDER": "recaptcha", "RECAPTCHA_VERSION": 2,
            **{f"{prefix}_SITE_KEY": SITE_KEY for prefix in ("RECAPTCHA", "HCAPTCHA", "TURNSTILE")},
            **{f"{prefix}_SECRET_KEY": SECRET for prefix in ("RECAPTCHA", "HCAPTCHA", "TURNSTILE")},
            "CAPTCHA_VERIFY_URL": httpserver.url_for(PATH),
            "CAPTCHA_EXPECTED_HOSTNAME": HOST, "RECAPTCHA_EXPECTED_ACTION": "contact",
            "RECAPTCHA_MIN_SCORE": 0.5, "CAPTCHA_TIMEOUT": 5.0,
        }
        return make_app(**{**settings, **overrides})

    return build


def verify(app, token=TOKEN, ip=IP) -> captcha.CaptchaResult:
    """Run the check as the contact view would, inside a request."""
    with app.test_request_context("/contact", method="POST"):
        return captcha.verify(token, ip)


def answer(httpserver, payload) -> None:
    """Make siteverify answer this JSON."""
    httpserver.expect_request(PATH, method="POST").respond_with_json(payload)


def posted(httpserver) -> list[dict]:
    """The forms siteverify received."""
    return [request.form.to_dict() for request, _ in httpserver.log]


def test_v2_success_posts_secret_response_and_remoteip(captcha_app, httpserver):
    answer(httpserver, V2_OK)
    assert verify(captcha_app()) == captcha.CaptchaResult(True, "ok")
    assert posted(httpserver) == [{"secret": SECRET, "response": TOKEN, "remoteip": IP}]
    request = httpserver.log[0][0]
    assert request.content_type == "application/x-www-form-urlencoded"
    httpserver.check_assertions()


def test_remote_ip_is_left_out_when_unknown(captcha_app, httpserver):
    answer(httpserver, V2_OK)
    assert verify(captcha_app(), ip=None).ok
    assert posted(httpserver) == [{"secret": SECRET, "response": TOKEN}]


def test_v3_success_with_the_expected_action_and_score(captcha_app, httpserver):
    answer(httpserver, V3_OK)
    assert verify(captcha_app(RECAPTCHA_VERSION=3)) == captcha.CaptchaResult(True, "ok")


def test_v3_score_exactly_at_the_minimum_is_accepted(captcha_app, httpserver):
    answer(httpserver, {**V3_OK, "score": 0.7})
    assert verify(captcha_app(RECAPTCHA_VERSION=3, RECAPTCHA_MIN_SCORE=0.7)).ok


@pytest.mark.parametrize("token", [None, "", "   "])
def test_missing_token_is_refused_without_asking_siteverify(captcha_app, httpserver, token):
    answer(httpserver, V2_OK)
    assert verify(captcha_app(), token=token) == captcha.CaptchaResult(False, "missing")
    assert httpserver.log == []


@pytest.mark.parametrize(
    ("version", "payload", "reason"),
    [
        (2, {"success": False, "error-codes": ["invalid-input-response"]}, "rejected"),
        (2, {**V2_OK, "success": "true"}, "rejected"),
        (2, {"hostname": HOST}, "rejected"),
        (2, {**V2_OK, "hostname": "evil.example"}, "hostname"),
        (2, {"success": True}, "hostname"),
        (3, {**V3_OK, "hostname": "evil.example"}, "hostname"),
        (3, {**V3_OK, "action": "login"}, "action"),
        (3, {**V2_OK, "score": 0.9}, "action"),
        (3, {**V3_OK, "score": 0.3}, "score"),
        (3, {**V3_OK, "score": 0.49}, "score"),
        (3, {**V3_OK, "score": None}, "score"),
        (3, {**V3_OK, "score": "0.9"}, "score"),
        (3, {**V3_OK, "score": True}, "score"),
    ],
)
def test_answers_that_are_not_a_clear_yes_are_refused(captcha_app, httpserver, version, payload, reason):
    answer(httpserver, payload)
    assert verify(captcha_app(RECAPTCHA_VERSION=version)) == captcha.CaptchaResult(False, reason)
    assert len(httpserver.log) == 1


def test_a_score_that_is_not_a_number_is_refused(captcha_app, httpserver):
    body = '{"success": true, "hostname": "k-inventory.com", "action": "contact", "score": NaN}'
    httpserver.expect_request(PATH, method="POST").respond_with_data(body, content_type="application/json")
    assert verify(captcha_app(RECAPTCHA_VERSION=3)) == captcha.CaptchaResult(False, "score")


def test_hostname_is_compared_without_case_and_unchecked_when_not_set(captcha_app, httpserver):
    answer(httpserver, {**V2_OK, "hostname": "K-Inventory.COM"})
    assert verify(captcha_app()).ok
    assert verify(captcha_app(CAPTCHA_EXPECTED_HOSTNAME="")).ok
    httpserver.clear()
    answer(httpserver, {"success": True, "hostname": "anything.example"})
    assert verify(captcha_app(CAPTCHA_EXPECTED_HOSTNAME="")).ok


def test_v2_ignores_action_and_score(captcha_app, httpserver):
    answer(httpserver, {**V2_OK, "action": "other", "score": 0.1})
    assert verify(captcha_app(RECAPTCHA_VERSION=2)).ok


def test_siteverify_too_slow_is_a_timeout(captcha_app, httpserver):
    released = threading.Event()

    def slow(request):
        released.wait(3)
        return Response(json.dumps(V2_OK), content_type="application/json")

    httpserver.expect_request(PATH, method="POST").respond_with_handler(slow)
    try:
        assert verify(captcha_app(CAPTCHA_TIMEOUT=0.5)) == captcha.CaptchaResult(False, "timeout")
    finally:
        released.set()


@pytest.mark.parametrize("status", [500, 502, 503, 404, 429])
def test_siteverify_errors_mean_unavailable(captcha_app, httpserver, status):
    httpserver.expect_request(PATH, method="POST").respond_with_json(V2_OK, status=status)
    assert verify(captcha_app()) == captcha.CaptchaResult(False, "unavailable")


def test_nothing_listening_means_unavailable(captcha_app, httpserver):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = captcha_app(CAPTCHA_VERIFY_URL=f"http://127.0.0.1:{port}/siteverify")
    assert verify(app) == captcha.CaptchaResult(False, "unavailable")


@pytest.mark.parametrize("body", ["<html>Service Unavailable</html>", "", '{"success": tru', "[true]", '"ok"', "null"])
def test_an_answer_that_is_not_a_json_object_is_invalid(captcha_app, httpserver, body):
    httpserver.expect_request(PATH, method="POST").respond_with_data(body, content_type="application/json")
    assert verify(captcha_app()) == captcha.CaptchaResult(False, "invalid")


def test_without_keys_the_check_is_off(captcha_app, httpserver):
    answer(httpserver, {"success": False})
    for keys in ({"RECAPTCHA_SITE_KEY": "", "RECAPTCHA_SECRET_KEY": ""}, {"RECAPTCHA_SECRET_KEY": ""}):
        app = captcha_app(**keys)
        with app.test_request_context("/contact"):
            assert not captcha.captcha_enabled()
        assert verify(app, token=None) == captcha.CaptchaResult(True, "disabled")
        assert verify(app) == captcha.CaptchaResult(True, "disabled")
    assert httpserver.log == []


@pytest.mark.parametrize(
    ("name", "field", "url", "widget_class"),
    [
        ("recaptcha", "g-recaptcha-response", "https://www.google.com/recaptcha/api/siteverify", "g-recaptcha"),
        ("hcaptcha", "h-captcha-response", "https://api.hcaptcha.com/siteverify", "h-captcha"),
        ("turnstile", "cf-turnstile-response", "https://challenges.cloudflare.com/turnstile/v0/siteverify",
         "cf-turnstile"),
    ],
)
def test_each_provider_has_its_field_url_and_widget(captcha_app, name, field, url, widget_class):
    app = captcha_app(CAPTCHA_PROVIDER=name)
    with app.test_request_context("/contact", method="POST", data={field: f" {TOKEN} ", "g-other": "x"}):
        provider = captcha.current_provider()
        assert (provider.name, provider.response_field, provider.verify_url) == (name, field, url)
        assert provider.widget_class == widget_class
        assert captcha.token_from(request.form) == TOKEN
    with app.test_request_context("/contact", method="POST", data={"other-response": TOKEN}):
        assert captcha.token_from(request.form) is None


@pytest.mark.parametrize("name", ["hcaptcha", "turnstile"])
def test_hcaptcha_and_turnstile_share_siteverify_and_need_no_score(captcha_app, httpserver, name):
    answer(httpserver, V2_OK)
    assert verify(captcha_app(CAPTCHA_PROVIDER=name, RECAPTCHA_VERSION=3)) == captcha.CaptchaResult(True, "ok")
    assert posted(httpserver) == [{"secret": SECRET, "response": TOKEN, "remoteip": IP}]
    httpserver.clear()
    answer(httpserver, {**V2_OK, "hostname": "evil.example"})
    assert verify(captcha_app(CAPTCHA_PROVIDER=name)) == captcha.CaptchaResult(False, "hostname")


def test_default_verify_url_is_the_providers(captcha_app):
    app = captcha_app(CAPTCHA_PROVIDER="hcaptcha", CAPTCHA_VERIFY_URL="")
    with app.test_request_context("/contact"):
        assert captcha.current_provider().verify_url == "https://api.hcaptcha.com/siteverify"


def test_an_unknown_provider_is_named_in_the_error(captcha_app):
    app = captcha_app(CAPTCHA_PROVIDER="friendly")
    with app.test_request_context("/"), pytest.raises(ValueError, match="friendly"):
        captcha.current_provider()


FAILURES = ["missing", "rejected", "hostname", "action", "score", "timeout", "unavailable", "invalid"]


@pytest.mark.parametrize("name", ["recaptcha", "hcaptcha", "turnstile"])
@pytest.mark.parametrize("version", [2, 3])
def test_every_failure_has_a_french_message(captcha_app, name, version):
    app = captcha_app(CAPTCHA_PROVIDER=name, RECAPTCHA_VERSION=version)
    label = {"recaptcha": "reCAPTCHA", "hcaptcha": "hCaptcha", "turnstile": "Cloudflare Turnstile"}[name]
    with app.test_request_context("/contact"):
        for reason in FAILURES:
            message = captcha.failure_message(captcha.CaptchaResult(False, reason))
            assert message.strip() and "vérification anti-spam" in message and label in message
            assert "ce que vous avez saisi est conservé" in message
        assert captcha.failure_message(captcha.CaptchaResult(True, "ok")) == ""
        assert captcha.failure_message(captcha.CaptchaResult(True, "disabled")) == ""


def test_failure_messages_say_what_to_do(captcha_app):
    def message(reason, **settings):
        with captcha_app(**settings).test_request_context("/contact"):
            return captcha.failure_message(captcha.CaptchaResult(False, reason))

    assert message("missing") == (
        "La vérification anti-spam (reCAPTCHA) n’a pas abouti. Cochez la case et renvoyez le formulaire\u00a0; "
        "ce que vous avez saisi est conservé."
    )
    for reason in ("timeout", "unavailable"):
        assert "n’a pas répondu" in message(reason) and "Réessayez dans un instant" in message(reason)
    assert "JavaScript" in message("missing", RECAPTCHA_VERSION=3)
    assert "robot" in message("score", RECAPTCHA_VERSION=3)
    assert "coche" in message("rejected", CAPTCHA_PROVIDER="turnstile")
    assert "Cochez la case" in message("rejected", CAPTCHA_PROVIDER="hcaptcha")


def test_the_secret_and_the_token_never_reach_the_log(captcha_app, httpserver, caplog):
    caplog.set_level(logging.DEBUG)
    app = captcha_app(RECAPTCHA_VERSION=3)
    for payload in ({"success": False, "error-codes": ["invalid-input-secret"]}, {**V3_OK, "score": 0.1}, V3_OK):
        httpserver.clear()
        answer(httpserver, payload)
        verify(app)
    httpserver.clear()
    httpserver.expect_request(PATH, method="POST").respond_with_data("oops", status=500)
    verify(app)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "invalid-input-secret" in logged and "score" in logged and "unavailable" in logged
    assert SECRET not in logged and TOKEN not in logged and IP not in logged


def render_partial(app, **context) -> str:
    """The partial as the contact page would render it."""
    with app.test_request_context("/contact"):
        return render_template("rights/_captcha.html", captcha=captcha.widget(), **context)


def test_the_partial_renders_the_v2_checkbox_with_the_site_key(captcha_app):
    html = render_partial(captcha_app())
    assert f'<div class="g-recaptcha" data-sitekey="{SITE_KEY}"></div>' in html
    assert '<script src="https://www.google.com/recaptcha/api.js?hl=fr" async defer></script>' in html
    assert "désactivée" not in html and "JavaScript" in html


@pytest.mark.parametrize(
    ("name", "widget", "script"),
    [
        ("hcaptcha", f'<div class="h-captcha" data-sitekey="{SITE_KEY}"></div>', "https://js.hcaptcha.com/1/api.js?hl=fr"),
        ("turnstile", f'<div class="cf-turnstile" data-sitekey="{SITE_KEY}" data-language="fr"></div>',
         "https://challenges.cloudflare.com/turnstile/v0/api.js"),
    ],
)
def test_the_partial_renders_hcaptcha_and_turnstile(captcha_app, name, widget, script):
    html = render_partial(captcha_app(CAPTCHA_PROVIDER=name))
    assert widget in html and f'<script src="{script}" async defer></script>' in html


def test_the_partial_renders_v3_as_a_token_fetched_on_submit(captcha_app):
    html = render_partial(captcha_app(RECAPTCHA_VERSION=3, RECAPTCHA_EXPECTED_ACTION="contact"))
    assert f'src="https://www.google.com/recaptcha/api.js?render={SITE_KEY}&amp;hl=fr"' in html
    assert '<input type="hidden" name="g-recaptcha-response"' in html
    assert "<script>" in html
    assert "grecaptcha.execute(siteKey, {action: action})" in html
    assert f'var siteKey = "{SITE_KEY}";' in html and 'var action = "contact";' in html
    assert 'getElementById("contact-form")' in html and "g-recaptcha" not in html.replace("g-recaptcha-response", "")


def test_the_partial_says_the_check_is_off_without_keys(captcha_app):
    html = render_partial(captcha_app(RECAPTCHA_SITE_KEY="", RECAPTCHA_SECRET_KEY=""))
    assert "Vérification anti-spam désactivée (environnement de développement\u00a0: clés reCAPTCHA absentes)." in html
    assert "<script" not in html and "data-sitekey" not in html


def contact_page(app):
    """A stand-in contact page that uses the partial the way the real one does."""

    @app.get("/captcha-test")
    def page():
        captcha.allow_captcha_sources()
        return f'<form id="contact-form">{render_template("rights/_captcha.html", captcha=captcha.widget())}</form>'

    return app.test_client().get("/captcha-test")


def test_the_page_csp_lets_the_widget_load_and_the_inline_script_by_its_hash(captcha_app):
    response = contact_page(captcha_app(RECAPTCHA_VERSION=3))
    csp = response.headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert {"https://www.google.com", "https://www.gstatic.com"} <= set(directives["script-src"].split())
    assert "https://www.google.com" in directives["frame-src"] and "'none'" not in directives["frame-src"]
    [code] = re.findall(r"<script>(.*?)</script>", response.get_data(as_text=True), re.DOTALL)
    assert sha256_source(code) in directives["script-src"].split()


def test_other_pages_and_disabled_check_keep_the_strict_csp(captcha_app):
    app = captcha_app(CAPTCHA_PROVIDER="hcaptcha")
    csp = contact_page(app).headers["Content-Security-Policy"]
    assert "https://*.hcaptcha.com" in csp.split("frame-src")[1].split(";")[0]
    assert "hcaptcha" not in app.test_client().get("/").headers["Content-Security-Policy"]
    disabled = contact_page(captcha_app(RECAPTCHA_SITE_KEY="", RECAPTCHA_SECRET_KEY=""))
    assert "frame-src 'none'" in disabled.headers["Content-Security-Policy"]


GRECAPTCHA_STAND_IN = """window.grecaptcha = {
  ready: function (callback) { setTimeout(callback, 50); },
  execute: function (key, options) { return Promise.resolve("v3-token-" + key + "-" + options.action); }
};"""


@pytest.fixture
def v3_live(captcha_app):
    """A stand-in contact page served over real HTTP; its POST shows the token and fields it received."""
    from flask_wtf.csrf import generate_csrf

    from tests.support.live import LiveServer

    app = captcha_app(RECAPTCHA_VERSION=3)

    @app.route("/captcha-form", methods=["GET", "POST"])
    def form_page():
        if request.method == "POST":
            return "|".join(f"{key}={request.form.get(field)}" for key, field in
                            (("token", "g-recaptcha-response"), ("name", "name"), ("send", "send")))
        captcha.allow_captcha_sources()
        partial = render_template("rights/_captcha.html", captcha=captcha.widget())
        return (f'<!doctype html><form id="contact-form" method="post"><input type="hidden" name="csrf_token" '
                f'value="{generate_csrf()}"><input name="name" value="Alice">{partial}'
                '<button type="submit" name="send" value="1">Envoyer</button></form>')

    server = LiveServer(app).start()
    yield server
    server.stop()


@pytest.mark.browser
@pytest.mark.parametrize("google_reachable", [True, False])
def test_v3_puts_a_fresh_token_in_the_form_before_it_is_sent(v3_live, page, google_reachable):
    def google(route):
        if google_reachable:
            route.fulfill(status=200, content_type="application/javascript", body=GRECAPTCHA_STAND_IN)
        else:
            route.abort()

    page.route("https://www.google.com/recaptcha/**", google)
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(f"{v3_live.url}/captcha-form")
    page.wait_for_load_state("networkidle")
    with page.expect_navigation():
        page.get_by_role("button", name="Envoyer").click()
    body = page.locator("body").inner_text()
    if google_reachable:
        assert body == f"token=v3-token-{SITE_KEY}-contact|name=Alice|send=1"
        assert not [error for error in errors if "Content Security Policy" in error]
    else:
        assert body == "token=|name=Alice|send=1"


@pytest.mark.parametrize(("name", "prefix", "company"), [
    ("recaptcha", "RECAPTCHA", "Google"), ("hcaptcha", "HCAPTCHA", "Intuition Machines"),
    ("turnstile", "TURNSTILE", "Cloudflare")])
def test_each_provider_has_its_own_keys_and_the_page_names_it(captcha_app, name, prefix, company):
    others = {f"{other}_{kind}": "" for other in ("RECAPTCHA", "HCAPTCHA", "TURNSTILE") if other != prefix
              for kind in ("SITE_KEY", "SECRET_KEY")}
    app = captcha_app(CAPTCHA_PROVIDER=name, **others)
    html = app.test_client().get("/contact").get_data(as_text=True)
    label = captcha.PROVIDERS[name].label
    assert f"protégé par {label}, un service proposé par {company}" in html
    assert (company == "Google") == ("Google" in html)
    assert 'id="captcha-disabled"' not in html
    app = captcha_app(CAPTCHA_PROVIDER=name, **{f"{prefix}_SITE_KEY": ""}, **others)
    disabled = app.test_client().get("/contact").get_data(as_text=True)
    assert 'id="captcha-disabled"' in disabled and f"clés {label} absentes" in disabled
