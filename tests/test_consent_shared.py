"""One consent across the company's sites: the cookies carry CONSENT_COOKIE_DOMAIN, the choice is read on another
host name, and /cookies/etat.json gives it (no identifier) to the listed origins only."""

import pytest

from app.config import ProductionConfig
from app.consent.register import CONSENT_COOKIE, VARIANT_COOKIE
from tests.support.consent import choose, records, set_cookie_headers
from tests.support.live import CHROMIUM_ARGS, launch_chromium
from tests.test_config import SAFE_PRODUCTION

DOMAIN = ".k-inventory.test"
PRODUCT_ORIGIN = "http://app.k-inventory.test"


@pytest.fixture
def shared(app, policy):
    """The consent shared with every k-inventory.test host; the product's origin may read it."""
    app.config["CONSENT_COOKIE_DOMAIN"] = DOMAIN
    app.config["CONSENT_SHARED_ORIGINS"] = [PRODUCT_ORIGIN]
    return app


def test_the_choice_and_its_page_variant_carry_the_shared_domain(shared, client):
    answer = choose(client, "accept_all", headers={"Host": "www.k-inventory.test"})

    choice = [h for h in set_cookie_headers(answer) if h.split("=", 1)[0] in (CONSENT_COOKIE, VARIANT_COOKIE)]
    kept = [h for h in choice if "Expires=Thu, 01 Jan 1970" not in h]
    assert {h.split("=", 1)[0] for h in kept} == {CONSENT_COOKIE, VARIANT_COOKIE}
    assert all("Domain=k-inventory.test" in h for h in kept)
    assert all("Domain" not in h for h in choice if h not in kept)  # the host-only pair of an earlier choice goes


def test_the_state_is_read_on_another_host_and_only_allowed_origins_get_cors(shared, client):
    choose(client, "refuse_all", base_url="http://www.k-inventory.test")

    state = client.get("/cookies/etat.json", base_url="http://app.k-inventory.test", headers={"Origin": PRODUCT_ORIGIN})
    other = client.get("/cookies/etat.json", base_url="http://app.k-inventory.test",
                       headers={"Origin": "https://evil.example"})

    assert state.json["decided"] is True and state.json["categories"]["analytics"] is False
    assert set(state.json) == {"decided", "categories", "version", "gpc", "decided_at", "expires_at"}
    assert state.headers["Access-Control-Allow-Origin"] == PRODUCT_ORIGIN
    assert state.headers["Access-Control-Allow-Credentials"] == "true"
    assert "Access-Control-Allow-Origin" not in other.headers
    assert state.headers["Cache-Control"] == "private, no-store" and "Origin" in state.headers["Vary"]


def test_no_choice_yet_says_so(shared, client):
    assert client.get("/cookies/etat.json").json == {"decided": False}


@pytest.mark.browser
def test_a_choice_made_on_www_is_read_on_app_and_by_the_products_script(shared, live_server, playwright_instance,
                                                                        httpserver):
    port = live_server.url.rsplit(":", 1)[1]
    product = f"http://app.k-inventory.test:{httpserver.port}"
    shared.config["CONSENT_SHARED_ORIGINS"] = [product]
    www = f"http://www.k-inventory.test:{port}"
    httpserver.expect_request("/").respond_with_data(
        f'<!doctype html><title>Produit</title><script src="{www}/static/consent/shared-state.js" '
        f'data-state-url="{www}/cookies/etat.json"></script>', content_type="text/html")
    browser = launch_chromium_mapped(playwright_instance)
    try:
        page = browser.new_context(locale="fr-FR").new_page()
        page.goto(f"{www}/")
        page.get_by_role("region", name="Vos choix en matière de cookies").get_by_role(
            "button", name="Tout accepter").click()
        page.locator("#cc").wait_for(state="detached")  # the banner leaves once the choice is recorded and set
        page.goto(f"http://app.k-inventory.test:{port}/")
        assert "K-Inventory" in page.title()
        assert not page.get_by_role("region", name="Vos choix en matière de cookies").is_visible()
        page.goto(f"{product}/")
        state = page.evaluate("window.kinvConsent.ready")
        assert state["decided"] is True and state["categories"]["analytics"] is True
        assert "consent_id" not in state and len(records()) == 1  # the proof: one record, kept here
    finally:
        browser.close()


def launch_chromium_mapped(playwright):
    """Chromium that resolves every k-inventory.test host name to loopback."""
    CHROMIUM_ARGS.append("--host-resolver-rules=MAP *.k-inventory.test 127.0.0.1")
    try:
        return launch_chromium(playwright)
    finally:
        CHROMIUM_ARGS.pop()


@pytest.mark.parametrize(("variable", "value", "named"), [
    ("CONSENT_COOKIE_DOMAIN", ".k-inventory.fr", "CONSENT_COOKIE_DOMAIN: k-inventory.fr does not hold"),
    ("CONSENT_SHARED_ORIGINS", "http://app.k-inventory.com", "CONSENT_SHARED_ORIGINS: https:// origins only"),
    ("PRODUCT_WEBHOOK_SECRET", "secret", "PRODUCT_WEBHOOK_SECRET: a Standard Webhooks secret"),
    ("PRODUCT_WEBHOOK_SECRET", "whsec_", "PRODUCT_WEBHOOK_SECRET: a Standard Webhooks secret"),
    ("PRODUCT_WEBHOOK_SECRET", "whsec_c2hvcnQ=", "PRODUCT_WEBHOOK_SECRET: a Standard Webhooks secret"),
    ("PRODUCT_LINK_SECRET", "short", "PRODUCT_LINK_SECRET: weak"),
])
def test_production_refuses_a_consent_or_product_setting_that_cannot_work(monkeypatch, variable, value, named):
    for name, setting in {**SAFE_PRODUCTION, "CONSENT_COOKIE_DOMAIN": ".k-inventory.com",
                          "CONSENT_SHARED_ORIGINS": "https://app.k-inventory.com"}.items():
        monkeypatch.setenv(name, setting)
    assert ProductionConfig().problems() == []
    monkeypatch.setenv(variable, value)

    assert any(problem.startswith(named) for problem in ProductionConfig().problems())
