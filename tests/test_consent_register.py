"""The register: one declaration of categories, services and cookies, with a version and sound lifetimes."""

from dataclasses import replace

import pytest
from flask_babel import force_locale

from app.consent.register import (
    CONSENT_COOKIE,
    REGISTER,
    Category,
    Cookie,
    Lifetime,
    Service,
    Tag,
)
from tests.support.consent import visible_text


def test_register_is_sound():
    assert REGISTER.problems() == []
    assert REGISTER.version


def in_both_languages(app, text) -> tuple[str, str]:
    """A register text as French and English readers see it (through the site's one catalogue)."""
    with app.test_request_context("/"), force_locale("fr"):
        french = str(text)
    with app.test_request_context("/"), force_locale("en"):
        return french, str(text)


def test_required_categories_are_declared_in_french_and_english(app):
    names = {category.key: in_both_languages(app, category.name) for category in REGISTER.categories}
    assert names["necessary"][0] == "Strictement nécessaires"
    assert names["analytics"][0] == "Mesure d’audience"
    assert names["advertising"][0] == "Publicité ciblée et réseaux sociaux"
    assert names["affiliation"][0] == "Affiliation"
    assert all(english and english != french for french, english in names.values())
    assert [c.key for c in REGISTER.categories if c.required] == ["necessary"]


def test_necessary_category_names_the_session_and_consent_cookies():
    necessary = REGISTER.category("necessary")
    assert {"session", CONSENT_COOKIE} <= {cookie.name for cookie in necessary.cookies}
    assert all(service.tag is None for service in necessary.services)


def test_every_cookie_has_purposes_in_both_languages_and_at_most_13_months(app):
    def translated(text) -> bool:
        french, english = in_both_languages(app, text)
        return bool(french and english and french != english)

    for category in REGISTER.categories:
        assert translated(category.legal_basis)
        for service in category.services:
            assert service.provider and translated(service.purpose)
            for cookie in service.cookies:
                assert translated(cookie.purpose)
                assert not cookie.lifetime.too_long and cookie.lifetime.in_days() <= 396


def test_google_tag_and_retargeting_example_are_declared(app):
    advertising = REGISTER.category("advertising")
    assert advertising.refused_under_gpc
    assert {"ad_storage", "ad_user_data", "ad_personalization"} == set(advertising.consent_mode)
    assert REGISTER.has_google_tag
    assert any("reciblage" in in_both_languages(app, service.purpose)[0].lower() for service in advertising.services)
    analytics = REGISTER.category("analytics")
    assert analytics.consent_mode == ("analytics_storage",)
    assert analytics.services[0].tag.src.startswith("https://www.googletagmanager.com/gtag/js?id=")


@pytest.mark.parametrize(("pattern", "name", "matches"), [
    ("_ga_*", "_ga_K1NV3NT0RY", True), ("_ga_*", "_ga", False), ("_ga", "_ga", True), ("_ga", "_gat", False),
    ("_aw_m_*", "_aw_m_112233", True), ("_aw_m_*", "_aw_sn_1", False),
])
def test_cookie_patterns(pattern, name, matches):
    assert Cookie(pattern, Lifetime(1, "day"), "").matches(name) is matches


@pytest.mark.parametrize("lifetime", [Lifetime(14, "month"), Lifetime(400, "day")])
def test_over_13_months_is_a_problem(lifetime):
    bad = Cookie("_too_long", lifetime, "x")
    category = replace(REGISTER.category("analytics"),
                       services=(Service("bad", "Bad", "Bad Inc.", "x", cookies=(bad,)),))
    register = replace(REGISTER, categories=(REGISTER.category("necessary"), category))
    assert register.problems() == ["_too_long: lifetime over 13 months"]


def test_a_register_without_necessary_category_or_with_a_necessary_tag_is_refused():
    optional_only = replace(REGISTER, categories=REGISTER.optional)
    assert "no strictly necessary category" in optional_only.problems()
    tagged = Service("spy", "Spy", "Spy Inc.", "x", tag=Tag(src="https://spy.example/t.js"))
    necessary = replace(REGISTER.category("necessary"), services=(tagged,))
    assert "spy: a strictly necessary service injects no tag" in replace(
        REGISTER, categories=(necessary,)).problems()


def test_adding_a_service_is_one_entry(app, client, policy):
    extra = Service(
        key="matomo_demo", name="Matomo Démo", provider="Exemple SAS",
        purpose="Statistiques.",
        cookies=(Cookie("_pk_id.*", Lifetime(13, "month"), "Identifiant de visite."),),
        tag=Tag(src="https://stats.example.org/matomo.js", csp={"script-src": ("https://stats.example.org",)}),
    )
    analytics = REGISTER.category("analytics")
    register = replace(REGISTER, version="with-matomo", categories=tuple(
        replace(c, services=(*c.services, extra)) if c.key == "analytics" else c for c in REGISTER.categories))
    app.config["CONSENT_REGISTER"] = register
    assert analytics is not register.category("analytics")
    for url in ("/cookies", "/confidentialite"):
        text = visible_text(client.get(url).get_data(as_text=True))
        assert "Matomo Démo" in text and "_pk_id.*" in text
    client.post("/cookies", data={"csrf_token": _token(client), "choice": "save", "categories": ["analytics"]})
    response = client.get("/")
    assert 'src="https://stats.example.org/matomo.js"' in response.get_data(as_text=True)
    assert "https://stats.example.org" in response.headers["Content-Security-Policy"]


def _token(client) -> str:
    from tests.conftest import csrf_token

    return csrf_token(client.get("/cookies").get_data(as_text=True))


@pytest.mark.parametrize(("url", "words"), [
    ("/confidentialite", ("Strictement nécessaires", "Mesure d’audience", "_ga_*", "13 mois", "Registre des cookies",
                          "Modifier mes choix")),
    ("/en/privacy", ("Strictly necessary", "Audience measurement", "_fbp", "3 months", "Cookie register",
                     "Change my choices")),
])
def test_policy_section_7_has_the_cookie_table(client, policy, url, words):
    html = client.get(url).get_data(as_text=True)
    section = html[html.index('id="cookies"'):]
    section = section[:section.index("</section>")]
    text = visible_text(section)
    for word in words:
        assert word in text
    assert section.count("<table") == len(REGISTER.categories)


def test_category_dataclass_lists_its_cookies():
    category = Category("demo", "Démo", "", "", services=(
        Service("a", "A", "A Inc.", "", cookies=(Cookie("a1", Lifetime(), ""),)),
        Service("b", "B", "B Inc.", "", cookies=(Cookie("b1", Lifetime(2, "day"), ""),)),
    ))
    assert [cookie.name for cookie in category.cookies] == ["a1", "b1"]
    assert Lifetime(2, "month").in_days() == 61 and Lifetime().in_days() == 0


def test_app_refuses_to_start_with_an_unsound_register(make_app):
    register = replace(REGISTER, categories=REGISTER.optional)
    with pytest.raises(RuntimeError, match="no strictly necessary category"):
        make_app(CONSENT_REGISTER=register)


@pytest.mark.parametrize(("url", "phrase"), [
    ("/", "la mesure d’audience, la publicité ciblée (y compris sur les réseaux sociaux), l’affiliation et "
          "personnalisation du contenu."),
    # A category added without its English in the catalogue reads in French until `flask translate update` adds it.
    ("/en/", "audience measurement, targeted advertising (including on social networks), affiliate marketing, and "
             "personnalisation du contenu."),
])
def test_a_new_category_is_named_by_the_banner_preferences_and_policy(app, client, policy, url, phrase):
    extra = Category(
        key="personalisation", name="Personnalisation du contenu",
        description="Adapte le contenu.", legal_basis="Consentement",
        services=(Service("recos", "Recos", "Recos SAS", "Recommandations.",
                          cookies=(Cookie("_recos", Lifetime(6, "month"), "Profil."),)),))
    app.config["CONSENT_REGISTER"] = replace(REGISTER, version="with-personalisation",
                                             categories=(*REGISTER.categories, extra))
    assert phrase in visible_text(client.get(url).get_data(as_text=True))
    preferences = client.get("/cookies" if url == "/" else "/en/cookies").get_data(as_text=True)
    assert 'id="cc-personalisation"' in preferences and "_recos" in visible_text(preferences)
    assert "_recos" in visible_text(client.get("/confidentialite").get_data(as_text=True))
