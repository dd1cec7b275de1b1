"""The site in a real browser: pages render and the language switch works."""

import pytest

pytestmark = pytest.mark.browser


def test_policy_page_in_chromium(live_server, page):
    page.goto(f"{live_server.url}/confidentialite")
    assert page.locator("h1").inner_text() == "Politique de confidentialité"
    page.get_by_role("link", name="English").click()
    page.wait_for_url("**/en/privacy")
    assert page.locator("html").get_attribute("lang") == "en"
