"""The banner: on every page until a choice, three equal buttons, plain forms without JavaScript, JSON to fetch."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.consent.register import CONSENT_COOKIE, REGISTER, VARIANT_COOKIE
from tests.conftest import csrf_token
from tests.support.consent import (
    CHOOSE_URL,
    JSON,
    all_choices,
    banner_shown,
    choose,
    cookie_state,
    give_cookie,
    records,
    register_with_version,
    set_cookie_headers,
    visible_text,
)

FRENCH = ("Vos choix en matière de cookies", "Tout accepter", "Tout refuser", "Personnaliser",
          "Continuer sans accepter", "Politique de confidentialité", "Liste des cookies")
ENGLISH = ("Your cookie choices", "Accept all", "Refuse all", "Customise", "Continue without accepting",
           "Privacy policy", "List of cookies")


@pytest.mark.parametrize(("url", "words"), [
    ("/", FRENCH), ("/confidentialite", FRENCH), ("/confidentialite/versions", FRENCH), ("/page-inconnue", FRENCH),
    ("/en/", ENGLISH), ("/en/privacy", ENGLISH), ("/en/unknown-page", ENGLISH),
])
def test_banner_on_every_page_before_a_choice(client, policy, url, words):
    html = client.get(url).get_data(as_text=True)
    assert banner_shown(html)
    text = visible_text(html)
    for word in words:
        assert word in text


def banner_text(html: str) -> str:
    """The visible text of the banner alone."""
    start = html.index('id="cc"')
    return visible_text("<" + html[start:html.index("</section>", start)])


@pytest.mark.parametrize(("url", "sentences"), [
    ("/", ("Avec votre accord, nous utilisons des cookies pour la mesure d’audience, la publicité ciblée (y compris "
           "sur les réseaux sociaux) et l’affiliation.",
           "Refuser est sans conséquence. Changez d’avis à tout moment via « Gestion des cookies » en bas de page.")),
    ("/en/", ("With your consent, we use cookies for audience measurement, targeted advertising (including on social "
              "networks), and affiliate marketing.",
              "Refusing has no consequence. Change your mind at any time from “Cookie settings” at the bottom of "
              "the page.")),
])
def test_banner_sentence_names_the_register_purposes_in_the_page_language(client, policy, url, sentences):
    text = banner_text(client.get(url).get_data(as_text=True))
    for sentence in sentences:
        assert sentence in text


def test_english_banner_has_no_french_left(client, policy):
    text = banner_text(client.get("/en/privacy").get_data(as_text=True))
    for french in ("Avec", "accord", "Refuser", "Tout", "Personnaliser", "Continuer", "Gestion", "politique"):
        assert french not in text


def test_banner_comes_right_after_the_skip_link_as_a_labelled_region_out_of_snippets(client, policy):
    html = client.get("/confidentialite").get_data(as_text=True)
    skip, banner, header = html.index('class="skip-link"'), html.index('id="cc"'), html.index('class="site-header"')
    assert skip < banner < header
    tag = html[banner - 30:html.index(">", banner)]
    assert tag.lstrip().startswith("<section") or "<section" in tag
    assert 'aria-labelledby="cc-title"' in tag and "data-nosnippet" in tag
    assert 'id="cc-title"' in html


def test_three_equal_real_buttons_and_a_continue_without_accepting_control(client, policy):
    html = client.get("/").get_data(as_text=True)
    section = html[html.index('id="cc"'):html.index("</section>", html.index('id="cc"'))]
    assert section.count('<button class="cc-btn"') == 3
    for value in ("accept_all", "refuse_all"):
        assert f'name="choice" value="{value}"' in section
    assert 'form="cc-custom"' in section  # « Personnaliser » is a real button that opens the preferences
    assert 'value="continue_without_accepting"' in section
    assert 'method="post"' in section and 'name="csrf_token"' not in section  # the same page for everyone


def test_banner_css_overlays_and_never_moves_the_content():

    css = (Path(__file__).resolve().parent.parent / "static" / "consent" / "banner.css").read_text()
    rule = css.split(".cc{", 1)[1].split("}", 1)[0]
    assert "position:fixed" in rule and "bottom:0" in rule


def test_page_stays_readable_behind_the_banner(client, policy):
    html = client.get("/confidentialite").get_data(as_text=True)
    assert banner_shown(html)
    text = visible_text(html)
    assert "Politique de confidentialité" in text and "Quelle est notre politique en matière de cookies" in text


@pytest.mark.parametrize(("choice", "expected"), [
    ("accept_all", True), ("refuse_all", False), ("continue_without_accepting", False),
])
def test_no_js_choice_is_recorded_and_goes_back_with_303(client, policy, choice, expected):
    response = choose(client, choice, page="/confidentialite")
    assert response.status_code == 303
    assert response.headers["Location"] == "/confidentialite"
    state = cookie_state(client)
    assert state.choices == all_choices(expected) and state.version == REGISTER.version
    [record] = records()
    assert record.action == choice and record.source == "banner" and record.channel == "no-js"
    assert record.choices == all_choices(expected)
    page = client.get("/confidentialite").get_data(as_text=True)
    assert not banner_shown(page)
    assert "Vos choix en matière de cookies sont enregistrés" in visible_text(page)


def test_english_choice_answers_in_english(client, policy):
    response = choose(client, "refuse_all", page="/en/privacy", lang="en")
    assert response.status_code == 303 and response.headers["Location"] == "/en/privacy"
    page = client.get("/en/privacy").get_data(as_text=True)
    assert not banner_shown(page)
    assert "Your cookie choices are saved" in visible_text(page)


def test_banner_posts_to_the_page_language(client, policy):
    assert f'action="{CHOOSE_URL["fr"]}"' in client.get("/").get_data(as_text=True)
    assert f'action="{CHOOSE_URL["en"]}"' in client.get("/en/").get_data(as_text=True)


def test_query_string_is_kept_on_the_way_back(client, policy):
    response = choose(client, "refuse_all", page="/confidentialite?source=mail")
    assert response.headers["Location"] == "/confidentialite?source=mail"


@pytest.mark.parametrize("target", [
    "//evil.com", "//evil.com/path", "https://evil.example", "http://evil.example/", "/\\evil.com", "\\\\evil.com",
    "/\\/evil.com", "http:/evil.com", "javascript:alert(1)", "evil.com", "/\tevil", "/\nLocation: //evil", "",
    "https:evil.com", " //evil.com",
])
def test_open_redirects_are_refused(client, policy, target):
    response = choose(client, "refuse_all", page="/", next_path=target)
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert len(records()) == 1


def test_open_redirect_falls_back_to_the_english_home(client, policy):
    response = choose(client, "refuse_all", page="/en/", lang="en", next_path="//evil.com")
    assert response.headers["Location"] == "/en/"


def test_a_choice_posted_by_another_site_is_refused(client, policy):
    response = client.post(CHOOSE_URL["fr"], data={"choice": "accept_all", "next": "/"},
                           headers={"Sec-Fetch-Site": "cross-site", "Origin": "https://attacker.example"})
    assert response.status_code == 403
    assert "envoyé depuis un autre site" in visible_text(response.get_data(as_text=True))
    assert records() == [] and client.get_cookie(CONSENT_COOKIE) is None


@pytest.mark.parametrize("choice", ["everything", "", "custom", "gpc_signal"])
def test_unknown_choice_records_nothing_and_says_so(client, policy, choice):
    response = choose(client, choice, page="/confidentialite")
    assert response.status_code == 303 and response.headers["Location"] == "/confidentialite"
    assert records() == []
    page = client.get("/confidentialite").get_data(as_text=True)
    assert banner_shown(page)
    assert "Ce choix n’existe pas." in visible_text(page) or "Choisissez une option." in visible_text(page)


def test_unknown_choice_answers_json_400_to_fetch(client, policy):
    response = choose(client, "everything", headers=JSON)
    assert response.status_code == 400
    assert response.json["ok"] is False and response.json["error"] == "Ce choix n’existe pas."


def test_fetch_gets_json_with_the_tags_to_start(client, policy):
    response = choose(client, "accept_all", headers=JSON)
    assert response.status_code == 200
    answer = response.json
    assert answer["ok"] and answer["choices"] == all_choices(True)
    assert {tag["service"] for tag in answer["tags"]} == {"google_analytics", "google_ads", "meta_pixel", "awin"}
    assert answer["consent_mode"]["analytics_storage"] == "granted"
    assert answer["consent_mode"]["ad_user_data"] == "granted"
    assert "Vos choix en matière de cookies sont enregistrés" in answer["message"]
    assert records()[0].channel == "js"
    assert cookie_state(client).choices == all_choices(True)


def test_fetch_refusal_starts_nothing(client, policy):
    answer = choose(client, "refuse_all", headers=JSON).json
    assert answer["tags"] == []
    assert set(answer["consent_mode"].values()) == {"denied"}


def test_consent_cookie_is_signed_first_party_and_lasts_six_months(client, policy):
    response = choose(client, "refuse_all")
    [header] = [h for h in set_cookie_headers(response) if h.startswith(CONSENT_COOKIE + "=")]
    assert "Max-Age=15552000" in header and "HttpOnly" in header and "SameSite=Lax" in header
    assert "Path=/" in header and "Domain=" not in header
    [variant] = [h for h in set_cookie_headers(response) if h.startswith(VARIANT_COOKIE + "=")]
    assert "Max-Age=15552000" in variant and "HttpOnly" in variant and "SameSite=Lax" in variant
    assert variant.split(";")[0] == f"{VARIANT_COOKIE}={REGISTER.version}~-~01"  # no identifier, no date
    state = cookie_state(client)
    assert state.consent_id == records()[0].consent_id
    assert abs((state.decided_at - datetime.now(UTC)).total_seconds()) < 60


def test_banner_hidden_with_a_valid_choice(app, client, policy):
    give_cookie(client, all_choices(False))
    assert not banner_shown(client.get("/").get_data(as_text=True))


def test_banner_returns_when_the_register_version_changes(app, client, policy):
    choose(client, "accept_all")
    assert not banner_shown(client.get("/").get_data(as_text=True))
    app.config["CONSENT_REGISTER"] = register_with_version("2099-01-01")
    html = client.get("/").get_data(as_text=True)
    assert banner_shown(html)
    assert "googletagmanager.com" not in html


def test_banner_returns_when_the_choice_is_six_months_old(app, client, policy):
    give_cookie(client, all_choices(True), decided_at=datetime.now(UTC) - timedelta(days=181))
    html = client.get("/").get_data(as_text=True)
    assert banner_shown(html) and "googletagmanager.com" not in html


def test_a_recent_choice_is_still_valid(app, client, policy):
    give_cookie(client, all_choices(True), decided_at=datetime.now(UTC) - timedelta(days=179))
    assert not banner_shown(client.get("/").get_data(as_text=True))


@pytest.mark.parametrize("value", ["garbage", "eyJpIjoiMSJ9.forged", ""])
def test_forged_or_broken_cookie_counts_as_no_choice(client, policy, value):
    client.set_cookie(CONSENT_COOKIE, value)
    response = client.get("/")
    assert response.status_code == 200 and banner_shown(response.get_data(as_text=True))


def test_a_consent_cookie_signed_with_another_key_proves_nothing(app, client, policy, make_app):
    other = make_app(SECRET_KEY="another-secret-key-that-is-long-enough-000")
    with other.app_context():
        give_cookie(client, all_choices(True))
    assert "pas encore fait de choix" in visible_text(client.get("/cookies/mon-choix").get_data(as_text=True))
    choose(client, "refuse_all")  # recorded under a new consent id, not the forged one
    assert records()[0].consent_id != "11111111-2222-4333-8444-555555555555"


def test_a_claimed_variant_changes_only_the_claimants_own_page(client, policy):
    """The variant cookie is unsigned on purpose: it names a page, no one's consent; no proof is made of it."""
    client.set_cookie(VARIANT_COOKIE, f"{REGISTER.version}~analytics~01")
    html = client.get("/").get_data(as_text=True)
    assert not banner_shown(html) and 'data-consent-tag="google_analytics"' in html
    assert records() == [] and client.get_cookie(CONSENT_COOKIE) is None


def test_no_banner_on_the_preferences_page_itself(client, policy):
    assert not banner_shown(client.get("/cookies").get_data(as_text=True))
    assert not banner_shown(client.get("/en/cookies").get_data(as_text=True))


def test_customise_button_opens_preferences_and_comes_back(client, policy):
    html = client.get("/confidentialite").get_data(as_text=True)
    assert '<form id="cc-custom" method="get" action="/cookies">' in html
    page = client.get("/cookies?next=/confidentialite").get_data(as_text=True)
    assert 'name="next" value="/confidentialite"' in page
    response = client.post("/cookies", data={"csrf_token": csrf_token(page), "choice": "save",
                                             "categories": ["analytics"], "next": "/confidentialite"})
    assert response.status_code == 303 and response.headers["Location"] == "/confidentialite"
