"""The preferences page: a toggle per category (off by default), save, refuse all, accept all, withdrawal."""

import re

import pytest

from app.consent.register import REGISTER
from tests.support.consent import (
    PREFERENCES_URL,
    all_choices,
    choose,
    cookie_state,
    expired_cookies,
    give_cookie,
    records,
    save_preferences,
    visible_text,
)

CHECKBOX = re.compile(r'<input type="checkbox" role="switch" id="cc-(\w+)"[^>]*?(checked)?>', re.S)


def toggles(html: str) -> dict[str, bool]:
    """Each category switch on the page and whether it is on."""
    return {key: bool(checked) for key, checked in CHECKBOX.findall(html)}


@pytest.mark.parametrize(("lang", "words"), [
    ("fr", ("Gestion des cookies", "Strictement nécessaires", "Toujours actifs", "Mesure d’audience",
            "Publicité ciblée et réseaux sociaux", "Affiliation", "Enregistrer mes choix", "Tout refuser",
            "Tout accepter", "Base légale")),
    ("en", ("Cookie settings", "Strictly necessary", "Always on", "Audience measurement",
            "Targeted advertising and social networks", "Affiliate marketing", "Save my choices", "Refuse all",
            "Accept all", "Legal basis")),
])
def test_page_lists_every_category_off_by_default(client, policy, lang, words):
    response = client.get(PREFERENCES_URL[lang])
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and f'<html lang="{lang}">' in html
    text = visible_text(html)
    for word in words:
        assert word in text
    assert toggles(html) == all_choices(False)
    assert 'id="cc-necessary"' not in html  # the necessary category is fixed on, with no switch


def test_page_lists_every_service_and_cookie_of_the_register(client, policy):
    text = visible_text(client.get("/cookies").get_data(as_text=True))
    for category in REGISTER.categories:
        for service in category.services:
            assert service.name in text and service.provider in text
            for cookie in service.cookies:
                assert cookie.name in text
    assert "13 mois" in text and "6 mois" in text and "30 jours" in text
    assert f"Registre des cookies, version {REGISTER.version}" in text


def test_english_page_lists_purposes_and_lifetimes_in_english(client, policy):
    text = visible_text(client.get("/en/cookies").get_data(as_text=True))
    assert "13 months" in text and "30 days" in text and "end of the browsing session" in text
    assert "Tells visitors apart." in text


def test_save_a_custom_choice(client, policy):
    response = save_preferences(client, categories=["analytics"])
    assert response.status_code == 303 and response.headers["Location"] == "/cookies"
    page = client.get("/cookies").get_data(as_text=True)
    assert "Vos choix en matière de cookies sont enregistrés" in visible_text(page)
    assert toggles(page) == {"analytics": True, "advertising": False, "affiliation": False}
    [record] = records()
    assert record.action == "custom" and record.source == "preferences" and record.channel == "no-js"
    assert record.choices == {"analytics": True, "advertising": False, "affiliation": False}
    assert not record.withdrawal


@pytest.mark.parametrize(("button", "expected"), [("accept_all", True), ("refuse_all", False)])
def test_accept_all_and_refuse_all_from_the_page(client, policy, button, expected):
    save_preferences(client, choice=button, categories=["analytics"])
    assert cookie_state(client).choices == all_choices(expected)
    assert records()[0].action == button


def test_withdrawal_from_the_footer_link_is_recorded_and_expires_the_cookies(client, policy):
    choose(client, "accept_all")
    page = client.get("/confidentialite").get_data(as_text=True)
    assert '<a href="/cookies">Gestion des cookies</a>' in page
    client.set_cookie("_fbp", "fb.1.123.456")
    client.set_cookie("_ga_K1NV3NT0RY", "GS1.1.1")
    response = save_preferences(client, categories=["analytics", "affiliation"])
    withdrawal = records()[-1]
    assert withdrawal.withdrawal and withdrawal.action == "custom"
    assert withdrawal.choices == {"analytics": True, "advertising": False, "affiliation": True}
    expired = {name for name, _domain in expired_cookies(response)}
    assert {"_fbp", "_fbc", "_gcl_au"} <= expired
    assert "_ga_K1NV3NT0RY" not in expired and "_ga" not in expired
    assert client.get_cookie("_fbp") is None and client.get_cookie("_ga_K1NV3NT0RY") is not None


def test_english_footer_link_reaches_the_english_page(client, policy):
    page = client.get("/en/privacy").get_data(as_text=True)
    assert '<a href="/en/cookies">Cookie settings</a>' in page


def test_current_choice_and_consent_id_are_shown(app, client, policy):
    state = give_cookie(client, {"analytics": True, "advertising": False, "affiliation": False})
    page = client.get("/cookies")
    html = page.get_data(as_text=True)
    assert state.consent_id not in html and "sont en vigueur" in visible_text(html)  # the same page for all alike
    assert toggles(html)["analytics"] is True and 'href="/cookies/mon-choix"' in html
    mine = client.get("/cookies/mon-choix")
    text = visible_text(mine.get_data(as_text=True))
    assert state.consent_id in text and "En vigueur jusqu’au" in text
    assert mine.headers["Cache-Control"] == "private, no-store"


def test_choice_for_an_old_register_version_is_not_preselected(app, client, policy):
    give_cookie(client, all_choices(True), version="2000-01-01")
    html = client.get("/cookies").get_data(as_text=True)
    assert toggles(html) == all_choices(False)
    assert "Vous n’avez pas encore fait de choix" in visible_text(html)


@pytest.mark.parametrize("categories", [["necessary"], ["analytics", "spyware"], ["<script>"]])
def test_unknown_category_is_refused_and_the_choice_kept(client, policy, categories):
    response = save_preferences(client, categories=categories)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Catégorie inconnue" in visible_text(html)
    assert toggles(html)["analytics"] is ("analytics" in categories)
    assert "<script>." not in html  # the bad value is shown escaped
    assert records() == []


def test_unknown_category_in_english(client, policy):
    response = save_preferences(client, categories=["spyware"], lang="en")
    assert response.status_code == 400 and "Unknown category: spyware." in visible_text(response.get_data(as_text=True))


@pytest.mark.parametrize("choice", ["delete_everything", ""])
def test_unknown_button_is_refused(client, policy, choice):
    response = save_preferences(client, choice=choice, categories=["analytics"])
    assert response.status_code == 400
    text = visible_text(response.get_data(as_text=True))
    assert "Ce choix n’existe pas." in text or "Choisissez une option." in text
    assert records() == []


def test_unsafe_next_falls_back_to_the_preferences_page(client, policy):
    response = save_preferences(client, categories=[], next_path="https://evil.example/")
    assert response.headers["Location"] == "/cookies"


def test_gpc_notice_only_when_the_browser_sends_it(client, policy):
    assert "Global Privacy Control" not in client.get("/cookies").get_data(as_text=True)
    text = visible_text(client.get("/cookies", headers={"Sec-GPC": "1"}).get_data(as_text=True))
    assert "Global Privacy Control (GPC)" in text and "refusés par défaut" in text
    english = visible_text(client.get("/en/cookies", headers={"Sec-GPC": "1"}).get_data(as_text=True))
    assert "refused by default" in english
