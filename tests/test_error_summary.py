"""Errors that are found: after a failed submit, focus is on an error summary whose items link to the fields, and
the page's title starts with « Erreur : » (the GOV.UK and DSFR pattern), on public and staff forms alike."""

import pytest

from tests.support.rights import STAFF_PASSWORD, confirmed_request, log_in_browser, staff_client

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 667}
SUMMARY = """() => { const s = document.querySelector('.error-summary'), r = s.getBoundingClientRect();
  return {focused: document.activeElement === s, top: r.top, bottom: r.bottom,
          links: [...s.querySelectorAll('a')].map(a => a.getAttribute('href'))}; }"""

CAPTION_TOP = """(id) => { const f = document.getElementById(id), g = f.closest('fieldset');
  const c = (/^(radio|checkbox)$/.test(f.type) && g) ? g.querySelector('legend')
    : document.querySelector(`label[for="${id}"]`);
  return c.getBoundingClientRect().top; }"""


def assert_errors_found(page, height: int = PHONE["height"]) -> list[str]:
    """The page after a failed submit: title, focus on the summary in view, each link focusing its field."""
    page.wait_for_load_state()  # the answer to the click, parsed whole (a loaded machine may still be reading it)
    assert page.title().startswith("Erreur\u00a0: ")
    summary = page.evaluate(SUMMARY)
    assert summary["focused"] and summary["top"] >= 0 and summary["bottom"] <= height, summary
    for href in summary["links"]:
        page.locator(f".error-summary a[href='{href}']").click()
        assert page.evaluate("document.activeElement.id") == href[1:]
        box = page.locator(href).bounding_box()
        assert box["y"] >= -1 and box["y"] + box["height"] <= height  # the field is in view
        assert page.evaluate(CAPTION_TOP, href[1:]) >= -1  # and so is its label, or its group's legend
    return summary["links"]


def phone_page(browser):
    """A phone-sized page with the cookie choice already made (the banner would cover the bottom of the screen)."""
    context = browser.new_context(viewport=PHONE, locale="fr-FR")
    return context.new_page()


def test_contact_form_sent_empty(live_server, browser):
    page = phone_page(browser)
    page.goto(f"{live_server.url}/contact")
    page.get_by_role("button", name="Envoyer ma demande").click()
    assert assert_errors_found(page) == ["#name", "#email", "#kind-0", "#message"]
    assert page.locator("#message").input_value() == ""
    page.context.close()


def test_newsletter_forms_sent_with_a_bad_address(live_server, browser):
    page = phone_page(browser)
    page.goto(f"{live_server.url}/newsletter")
    page.fill("#email", "pas-une-adresse")
    page.get_by_role("button", name="M’inscrire").click()
    links = assert_errors_found(page)
    assert links[0] == "#email" and page.locator("#email").input_value() == "pas-une-adresse"
    page.fill("#link-email", "x@")
    page.get_by_role("button", name="Recevoir un lien").click()
    assert assert_errors_found(page) == ["#link-email"]
    page.context.close()


def test_staff_login_with_a_wrong_password(live_server, browser):
    with live_server.server.app.app_context():
        staff_client(live_server.server.app, "dpo", "dpo@k-inventory.com")
    page = phone_page(browser)
    page.goto(f"{live_server.url}/admin/connexion")
    page.fill("#email", "dpo@k-inventory.com")
    page.fill("#password", STAFF_PASSWORD + "x")
    page.get_by_role("button", name="Se connecter").click()
    assert assert_errors_found(page) == ["#email"]
    page.context.close()


def test_staff_refusal_without_a_reason_at_375_px(live_server, browser, mailbox):
    app = live_server.server.app
    with app.app_context():
        reference = confirmed_request(app.test_client(), mailbox, "jeanne@example.fr").reference
        staff_client(app, "dpo", "dpo@k-inventory.com")
    page = phone_page(browser)
    log_in_browser(page, live_server, "dpo@k-inventory.com")
    page.goto(f"{live_server.url}/admin/demandes/{reference}")
    page.get_by_role("button", name="Refuser", exact=True).click()
    assert assert_errors_found(page) == ["#refuse-reason"]
    page.context.close()
