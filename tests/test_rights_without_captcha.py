"""In Chromium, the rights form is never a dead end: without JavaScript, or with Google's script blocked, the request
is still sent (« sans captcha ») and waits for its e-mail confirmation."""

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.rights.models import RightsRequest
from tests.support.live import serving

SECRET = "secret-key-for-tests-0123456789abcdef"


@pytest.fixture
def protected_live(make_app, httpserver):
    """The site over real HTTP with reCAPTCHA keys (siteverify on loopback) and a privacy address."""
    with serving(make_app(RECAPTCHA_SITE_KEY="site-key", RECAPTCHA_SECRET_KEY=SECRET,
                          PRIVACY_EMAIL="dpo@k-inventory.com",
                          CAPTCHA_VERIFY_URL=httpserver.url_for("/siteverify"))) as server:
        yield server


@pytest.mark.browser
@pytest.mark.parametrize("javascript", [False, True])
def test_the_form_is_sent_without_javascript_or_with_google_blocked(protected_live, browser, javascript):
    context = browser.new_context(locale="fr-FR", java_script_enabled=javascript)
    context.route("https://www.google.com/**", lambda route: route.abort())
    context.route("https://www.gstatic.com/**", lambda route: route.abort())
    page = context.new_page()
    page.goto(f"{protected_live.url}/contact")
    assert "dpo@k-inventory.com" in page.locator("#privacy-email").inner_text()
    assert "Tour Ariane" in page.locator("#postal-address").inner_text()
    page.get_by_label("Nom").first.fill("Jeanne Martin")
    page.get_by_label("Adresse e-mail").first.fill("jeanne@example.fr")
    page.locator("input[name=kind][value=access]").check()
    page.get_by_label("Message").first.fill("Merci de me transmettre mes données.")
    with page.expect_navigation():
        page.get_by_role("button", name="Envoyer ma demande").click()
    assert page.url.endswith("/contact/demande-envoyee")
    context.close()
    stored = db.session.scalar(sa.select(RightsRequest))
    assert stored.without_captcha is True and stored.status == "unconfirmed"
