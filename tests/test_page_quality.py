"""Every public page is valid HTML (Nu Html Checker) and has no axe-core violation in Chromium."""

import pytest

from tests.support.pages import axe_violations, vnu_errors

EXTRA_PAGES = ["/page-inconnue", "/en/unknown-page", "/confidentialite/versions/1", "/en/privacy/versions/1"]
SIGNED_PAGES = {"/preferences/compte"}  # opened without its signed arguments: the page that refuses the link


def public_pages(app) -> list[str]:
    """Every GET page without URL arguments (both languages), plus error and version pages."""
    pages = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static" or rule.arguments - set(rule.defaults or {}):
            continue
        if rule.endpoint.startswith(("auth.", "backoffice.", "webhooks.", "ops.")) or "webhook" in rule.rule or (
                rule.rule.endswith(".json")):
            continue
        pages.append(rule.rule)
    return sorted(set(pages)) + EXTRA_PAGES


def test_every_page_validates_in_the_nu_html_checker(app, client, policy, tmp_path):
    pages = {}
    for url in public_pages(app):
        response = client.get(url)
        assert response.status_code in ((403,) if url in SIGNED_PAGES else (200, 404)), url
        pages[url] = response.data
    errors = vnu_errors(pages, tmp_path)
    assert errors == []


@pytest.mark.browser
def test_axe_finds_no_violation_on_any_page(app, live_server, browser):
    context = browser.new_context(bypass_csp=True, locale="fr-FR")
    page = context.new_page()
    violations = {}
    for url in public_pages(app):
        page.goto(live_server.url + url)
        found = axe_violations(page)
        if found:
            violations[url] = found
    context.close()
    assert violations == {}
