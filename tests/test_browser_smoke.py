"""The site in a real browser: pages render and the language switch works."""

import pytest

pytestmark = pytest.mark.browser


def test_policy_page_in_chromium(live_server, page):
    page.goto(f"{live_server.url}/confidentialite")
    assert page.locator("h1").inner_text() == "Politique de confidentialité"
    page.get_by_role("link", name="English").click()
    page.wait_for_url("**/en/privacy")
    assert page.locator("html").get_attribute("lang") == "en"


def test_policy_page_is_styled_under_its_csp_with_nothing_render_blocking(live_server, page):
    page.add_init_script("window.violations = []; document.addEventListener('securitypolicyviolation',"
                         " (event) => violations.push(event.violatedDirective + ' ' + event.blockedURI));")
    page.goto(f"{live_server.url}/confidentialite")
    summary_box = "getComputedStyle(document.querySelector('.policy-meta')).backgroundColor"
    assert page.evaluate(summary_box) == "rgb(243, 246, 249)"  # --soft: the inline stylesheet applies
    blocking = "performance.getEntriesByType('resource').filter((e) => e.renderBlockingStatus === 'blocking')"
    assert page.evaluate(f"{blocking}.map((e) => e.name)") == []
    assert page.evaluate("window.violations") == []
