"""Tags only after consent: rendered tags, CSP hosts, Google Consent Mode v2, cookie expiry, Global Privacy Control."""

import json
import re

import pytest

from app.consent.expiry import cookie_domains
from app.consent.register import CONSENT_COOKIE, VARIANT_COOKIE
from tests.conftest import csrf_token
from tests.support.consent import (
    JSON,
    all_choices,
    banner_shown,
    choose,
    cookie_state,
    expired_cookies,
    give_cookie,
    records,
    save_preferences,
    visible_text,
)
from tests.test_security import INLINE, sha256_source

THIRD_PARTY_SCRIPT_HOSTS = ("www.googletagmanager.com", "connect.facebook.net", "www.dwin1.com")
SITE = "http://www.k-inventory.com"


def script_src(csp: str) -> str:
    """The script-src directive of a CSP."""
    return csp.split("script-src", 1)[1].split(";", 1)[0]


def scripts(html: str) -> list[str]:
    """Every opening <script> tag of a page."""
    return re.findall(r"<script\b[^>]*>", html)


def test_before_a_choice_no_tag_is_rendered(client, policy):
    response = client.get("/confidentialite")
    html = response.get_data(as_text=True)
    for host in THIRD_PARTY_SCRIPT_HOSTS:
        assert host not in html
    assert "data-consent-tag" not in html


def test_while_the_banner_is_open_the_csp_admits_only_the_register_tags(client, policy):
    """So that a tag started by the JavaScript enhancement after « Tout accepter » can load its own scripts."""
    csp = client.get("/").headers["Content-Security-Policy"]
    sources = script_src(csp).split()
    hashes = [source for source in sources if source.startswith("'sha256-")]
    assert [source for source in sources if source not in hashes] == [
        "'self'", *(f"https://{host}" for host in THIRD_PARTY_SCRIPT_HOSTS)]
    page = client.get("/").get_data(as_text=True)
    inline = [sha256_source(code) for kind, code in INLINE.findall(page) if kind == "script"]
    assert len(inline) == 2 and set(inline) <= set(hashes)  # Consent Mode's defaults and the banner's loader
    answer = choose(client, "accept_all", headers=JSON).get_json()
    assert {sha256_source(tag["code"]) for tag in answer["tags"] if tag["code"]} <= set(hashes)  # what the script runs
    assert "frame-src https://td.doubleclick.net;" in csp


def test_without_the_banner_and_without_consent_the_csp_admits_no_third_party(client, policy):
    csp = client.get("/cookies").headers["Content-Security-Policy"]
    assert all(host not in csp for host in THIRD_PARTY_SCRIPT_HOSTS + ("google-analytics", "facebook", "awin1"))
    assert "frame-src 'none'" in csp


def test_consent_mode_defaults_to_denied_before_any_tag_allowed_by_its_hash(client, policy):
    response = client.get("/")
    html = response.get_data(as_text=True)
    default = html.index("gtag('consent','default'")
    assert re.search(r'"ad_storage": "denied", "analytics_storage": "denied", "ad_user_data": "denied", '
                     r'"ad_personalization": "denied"', html)
    assert "gtag('consent','update'" not in html
    start = html.rfind("<script>", 0, default)
    assert start == html.rfind("<script", 0, default) and "data-consent-tag" not in html[:default]
    code = html[start + len("<script>"):html.index("</script>", default)]
    assert sha256_source(code) in script_src(response.headers["Content-Security-Policy"]).split()


def test_every_script_is_allowed_by_its_hash_or_its_host_after_accepting(client, policy):
    choose(client, "accept_all")
    response = client.get("/confidentialite")
    html = response.get_data(as_text=True)
    allowed = script_src(response.headers["Content-Security-Policy"]).split()
    tags = scripts(html)
    assert len(tags) == 7  # Consent Mode; GA4 and the one gtag.js; Google Ads' config; Meta's two; Awin's
    for kind, code in INLINE.findall(html):
        assert kind == "style" or sha256_source(code) in allowed
    for src in re.findall(r'<script[^>]* src="(https://[^/"]+)', html):
        assert src in allowed


def test_accept_all_renders_every_tag_after_the_consent_mode_update(client, policy):
    choose(client, "accept_all")
    response = client.get("/confidentialite")
    html = response.get_data(as_text=True)
    update = html.index("gtag('consent','update'")
    assert html.index("gtag('consent','default'") < update < html.index('data-consent-tag="google_analytics"')
    assert re.search(r'"ad_storage": "granted".*"analytics_storage": "granted"', html)
    for service in ("google_analytics", "google_ads", "meta_pixel", "awin"):
        assert f'data-consent-tag="{service}"' in html
    allowed = script_src(response.headers["Content-Security-Policy"])
    for host in THIRD_PARTY_SCRIPT_HOSTS:
        assert f"https://{host}" in allowed


def test_one_google_tag_loader_whatever_the_number_of_google_services(client, policy):
    choose(client, "accept_all")
    html = client.get("/").get_data(as_text=True)
    assert len(re.findall(r'src="https://www\.googletagmanager\.com/gtag/js', html)) == 1
    assert html.count("gtag('js',") == 1
    analytics = html.index("gtag('config','G-K1NV3NT0RY',")
    assert html.index("gtag('js',") < analytics < html.index("gtag('config','AW-1122334455',")


def test_the_json_answer_to_fetch_carries_one_google_tag_loader(client, policy):
    tags = choose(client, "accept_all", headers=JSON).json["tags"]
    google = [tag for tag in tags if tag["service"] in ("google_analytics", "google_ads")]
    assert [bool(tag["src"]) for tag in google] == [True, False]
    assert [tag["code"].count("gtag('config',") for tag in google] == [1, 1]
    assert "".join(tag["code"] or "" for tag in tags).count("gtag('js',") == 1


def test_google_ads_alone_loads_gtag_with_its_own_id(client, policy):
    save_preferences(client, categories=["advertising"])
    html = client.get("/").get_data(as_text=True)
    assert 'src="https://www.googletagmanager.com/gtag/js?id=AW-1122334455"' in html
    assert html.count("gtag('js',") == 1 and "G-K1NV3NT0RY" not in html


def test_consent_mode_default_waits_500_ms_for_an_update(client, policy):
    html = client.get("/").get_data(as_text=True)
    default = re.search(r"gtag\('consent','default',(\{[^}]*\})\)", html).group(1)
    assert json.loads(default) == {"ad_storage": "denied", "analytics_storage": "denied", "ad_user_data": "denied",
                                   "ad_personalization": "denied", "wait_for_update": 500}
    assert "gtag('set','ads_data_redaction',true);" in html


def test_a_custom_choice_renders_and_allows_only_its_categories(client, policy):
    save_preferences(client, categories=["analytics"])
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert 'data-consent-tag="google_analytics"' in html
    assert "meta_pixel" not in html and "awin" not in html and "google_ads" not in html
    assert '"analytics_storage": "granted"' in html and '"ad_storage": "denied"' in html
    allowed = script_src(response.headers["Content-Security-Policy"])
    assert "https://www.googletagmanager.com" in allowed
    assert "connect.facebook.net" not in allowed and "dwin1" not in allowed
    csp = response.headers["Content-Security-Policy"]
    assert "www.facebook.com" not in csp and "td.doubleclick.net" not in csp


def test_refusal_renders_no_tag(client, policy):
    choose(client, "refuse_all")
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert "data-consent-tag" not in html and "gtag('consent','update'" not in html
    csp = response.headers["Content-Security-Policy"]
    assert all(host not in csp for host in THIRD_PARTY_SCRIPT_HOSTS)


def test_tags_stop_when_the_choice_lapses(app, client, policy):
    choose(client, "accept_all")
    assert "data-consent-tag" in client.get("/").get_data(as_text=True)
    client.delete_cookie(VARIANT_COOKIE)  # as the browser does when its Max-Age (the choice's 6 months) runs out
    assert "data-consent-tag" not in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize(("host", "domains"), [
    ("www.k-inventory.com", [None, "www.k-inventory.com", "k-inventory.com"]),
    ("k-inventory.com", [None, "k-inventory.com"]),
    ("shop.eu.k-inventory.com:8443", [None, "shop.eu.k-inventory.com", "eu.k-inventory.com"]),
    ("127.0.0.1:5000", [None]), ("localhost", [None]), ("[::1]:5000", [None]),
])
def test_cookie_domains(host, domains):
    assert cookie_domains(host) == domains


def test_refusal_expires_every_named_and_matching_cookie_on_site_and_parent_domain(app, policy):
    client = app.test_client()
    html = client.get("/", base_url=SITE).get_data(as_text=True)
    for name in ("_ga", "_ga_K1NV3NT0RY", "_fbp", "_aw_m_112233", "_gcl_aw", "session_pref"):
        client.set_cookie(name, "x", domain="www.k-inventory.com")
    response = client.post("/cookies/choix", base_url=SITE, data={
        "csrf_token": csrf_token(html), "choice": "refuse_all", "next": "/"})
    expired = expired_cookies(response)
    for name in ("_ga", "_ga_K1NV3NT0RY", "_fbp", "_fbc", "_gcl_au", "_gcl_aw", "_aw_m_112233"):
        for domain in (None, "www.k-inventory.com", "k-inventory.com"):
            assert (name, domain) in expired, (name, domain)
    names = {name for name, _domain in expired}
    assert "session" not in names and "session_pref" not in names and "kinv_consent" not in names
    assert "IDE" not in names  # set on the provider's domain: we cannot reach it


def test_acceptance_expires_nothing(client, policy):
    client.set_cookie("_ga", "x")
    assert expired_cookies(choose(client, "accept_all")) == []


def test_pages_expire_leftover_cookies_until_consent(app, client, policy):
    client.set_cookie("_ga", "GA1.1.1")
    client.set_cookie("_aw_sn_112233", "1")
    response = client.get("/")
    assert {name for name, _ in expired_cookies(response)} == {"_ga", "_aw_sn_112233"}
    assert client.get_cookie("_ga") is None
    give_cookie(client, {"analytics": True, "advertising": False, "affiliation": False})
    client.set_cookie("_ga", "GA1.1.2")
    client.set_cookie("_fbp", "fb")
    response = client.get("/")
    assert {name for name, _ in expired_cookies(response)} == {"_fbp"}
    assert client.get_cookie("_ga").value == "GA1.1.2"


def test_plain_page_without_tracking_cookies_sets_no_expiry(client, policy):
    assert expired_cookies(client.get("/")) == []


GPC = {"Sec-GPC": "1"}


def test_gpc_is_recorded_once_with_source_gpc(app, client, policy):
    html = client.get("/", headers=GPC).get_data(as_text=True)
    assert records() == []  # first sight: a cookie only, the record waits for the visitor to send it back
    assert cookie_state(client).gpc and not cookie_state(client).recorded
    client.get("/", headers=GPC)
    [record] = records()
    assert (record.action, record.source, record.channel) == ("gpc_signal", "gpc", "header")
    assert record.choices == all_choices(False)
    state = cookie_state(client)
    assert state.gpc and not state.complete
    assert banner_shown(html)
    assert "Global Privacy Control" in visible_text(html)
    client.get("/confidentialite", headers=GPC)
    client.get("/en/", headers=GPC)
    assert len(records()) == 1
    assert banner_shown(client.get("/", headers=GPC).get_data(as_text=True))


def test_gpc_refuses_advertising_even_on_accept_all(app, client, policy):
    client.get("/", headers=GPC)
    choose(client, "accept_all", headers=GPC)
    record = records()[-1]
    assert record.choices == {"analytics": True, "advertising": False, "affiliation": True}
    html = client.get("/", headers=GPC).get_data(as_text=True)
    assert not banner_shown(html)
    assert "meta_pixel" not in html and "google_ads" not in html and '"ad_storage": "denied"' in html
    assert len(records()) == 1  # a choice made, no GPC record (the cookie never came back before it)


def test_gpc_applies_from_the_cookie_when_the_header_is_gone(app, client, policy):
    client.get("/", headers=GPC)
    choose(client, "accept_all")
    assert records()[-1].choices["advertising"] is False


def test_explicit_switch_overrides_gpc_default(app, client, policy):
    response = save_preferences(client, categories=["advertising"], headers=GPC)
    assert response.status_code == 303
    assert records()[-1].choices["advertising"] is True and records()[-1].source == "preferences"


def test_gpc_in_english(client, policy):
    text = visible_text(client.get("/en/", headers=GPC).get_data(as_text=True))
    assert "Global Privacy Control signal: targeted advertising stays refused" in text


def test_gpc_seen_by_javascript_is_recorded(app, client, policy):
    html = client.get("/").get_data(as_text=True)
    assert 'data-gpc="0"' in html and 'data-gpc-url="/cookies/gpc"' in html
    response = client.post("/cookies/gpc", data={"csrf_token": csrf_token(html)}, headers=JSON)
    assert response.json == {"ok": True, "recorded": True}
    [record] = records()
    assert (record.source, record.channel, record.choices["advertising"]) == ("gpc", "js", False)
    assert 'data-gpc="1"' in client.get("/").get_data(as_text=True)
    again = client.post("/cookies/gpc", data={"csrf_token": csrf_token(html)})
    assert again.json["recorded"] is False and len(records()) == 1


def test_gpc_without_cookies_records_nothing_however_many_pages(app, policy):
    for _ in range(20):
        response = app.test_client(use_cookies=False).get("/", headers=GPC)
        assert response.status_code == 200 and "Sec-GPC" in response.headers["Vary"]
    assert records() == []


def test_a_replayed_gpc_cookie_is_recorded_once(app, client, policy):
    client.get("/", headers=GPC)
    cookie = client.get_cookie(CONSENT_COOKIE).value
    for _ in range(5):
        replay = app.test_client()
        replay.set_cookie(CONSENT_COOKIE, cookie)
        replay.get("/", headers=GPC)
    assert len(records()) == 1


def test_gpc_after_a_choice_records_nothing(app, client, policy):
    choose(client, "refuse_all")
    client.get("/", headers=GPC)
    assert [r.action for r in records()] == ["refuse_all"]


def test_gpc_endpoint_refuses_another_sites_post(client, policy):
    assert client.post("/cookies/gpc", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert records() == []
