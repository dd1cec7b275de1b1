"""The rights pages a signed link or a staff login leads to (which the site-wide checks cannot reach) are valid
HTML in the Nu Html Checker, and the journey — form, real e-mail, confirmation, status, back-office — works in
Chromium with no axe-core violation on any page."""

import pyotp
import pytest

from tests.support.newsletter import latest_mail, links, path_of
from tests.support.pages import axe_violations, vnu_errors
from tests.support.rights import STAFF_PASSWORD, confirmed_request, send_request, staff_action, staff_client


def collect_pages(app, client, mailbox) -> dict[str, tuple[int, bytes]]:
    """Every kind of rights page, by name: (status, HTML)."""
    pages = {}

    def keep(name: str, response) -> None:
        pages[name] = (response.status_code, response.data)

    keep("contact-errors", send_request(client, email="bad", kind="post_mortem"))
    keep("contact-errors-en", send_request(client, email="bad", url="/en/contact"))
    send_request(client, "pending@example.fr")
    message = latest_mail(mailbox, "pending@example.fr")
    [confirm] = links(message, "/demande/confirmer/")
    [status] = [u for u in links(message, "/demande/") if "confirmer" not in u]
    keep("confirm", client.get(path_of(confirm)))
    keep("status-unconfirmed", client.get(path_of(status)))
    keep("invalid", client.get(path_of(confirm)[:-4]))
    row = confirmed_request(client, mailbox, kind="rectification", correction="Mon nom")
    staff = staff_client(app, "dpo")
    keep("queue", staff.get("/admin/"))
    keep("request", staff.get(f"/admin/demandes/{row.reference}"))
    keep("request-error", staff_action(staff, row.reference, "prolonger", months="1", reason=""))
    staff_action(staff, row.reference, "dossier")
    staff_action(staff, row.reference, "repondre", text="Voici notre réponse.")
    keep("request-closed", staff.get(f"/admin/demandes/{row.reference}"))
    keep("login", app.test_client().get("/admin/connexion"))
    return pages


def test_every_rights_page_validates_in_the_nu_html_checker(app, client, mailbox, policy, tmp_path):
    pages = collect_pages(app, client, mailbox)
    assert {name: status for name, (status, _html) in pages.items()} == {
        "contact-errors": 400, "contact-errors-en": 400, "confirm": 200, "status-unconfirmed": 200, "invalid": 400,
        "queue": 200, "request": 200, "request-error": 400, "request-closed": 200, "login": 200}
    errors = vnu_errors({name: html for name, (_status, html) in pages.items()}, tmp_path)
    assert errors == []


@pytest.mark.browser
def test_the_whole_journey_in_chromium_with_no_accessibility_violation(live_server, browser, mailbox):
    app = live_server.server.app
    context = browser.new_context(bypass_csp=True, locale="fr-FR")
    page = context.new_page()
    violations = {}

    def check(name: str) -> None:
        found = axe_violations(page)
        if found:
            violations[name] = found

    page.goto(live_server.url + "/contact")
    page.get_by_label("Nom et prénom").fill("Jeanne Martin")
    page.get_by_label("Adresse e-mail").fill("chromium@example.fr")
    page.get_by_label("Accès à vos données").check()
    page.get_by_role("button", name="Envoyer ma demande").click()
    page.get_by_role("heading", name="Contact et exercice de vos droits").wait_for()
    assert page.locator("#message-error").inner_text().strip() == "Écrivez votre demande."  # beside the field
    assert page.locator(".error-summary a[href='#message']").inner_text() == "Écrivez votre demande."  # and above
    assert page.get_by_label("Nom et prénom").input_value() == "Jeanne Martin"
    check("contact-errors")
    page.get_by_label("Votre message").fill("Je souhaite recevoir mes données.")
    page.get_by_role("button", name="Envoyer ma demande").click()
    page.get_by_role("heading", name="Demande envoyée").wait_for()
    check("sent")
    with app.app_context():
        message = latest_mail(mailbox, "chromium@example.fr")
        [confirm] = links(message, "/demande/confirmer/")
    page.goto(confirm)
    check("confirm")
    page.get_by_role("button", name="Confirmer mon adresse").click()
    page.locator("#status").get_by_text("Adresse confirmée").wait_for()
    check("status")
    reference = page.get_by_role("heading", level=1).inner_text().split()[-1]

    with app.app_context():
        from app.auth.services import create_staff

        create_staff("agent@k-inventory.com", STAFF_PASSWORD, "agent")
    page.goto(live_server.url + "/admin/")
    page.get_by_label("Adresse e-mail").fill("agent@k-inventory.com")
    page.get_by_label("Mot de passe").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("heading", name="Activer la double authentification").wait_for()
    check("enrol")
    page.get_by_label("Code à six chiffres").fill(pyotp.TOTP(page.locator("#totp-secret").inner_text()).now())
    page.get_by_role("button", name="Activer").click()
    page.get_by_role("heading", name="Vos codes de secours").wait_for()
    check("recovery-codes")
    page.get_by_role("link", name="Continuer vers le back-office").click()
    page.get_by_role("heading", name="File des demandes").wait_for()
    check("queue")
    page.get_by_role("link", name=reference).click()
    page.get_by_role("button", name="Préparer le dossier de données et envoyer le lien").click()
    page.get_by_text("Dossier de données préparé").first.wait_for()
    check("request")
    page.locator("#answer-text").fill("Voici vos données.")
    page.get_by_role("button", name="Envoyer la réponse").click()
    page.locator("#status").get_by_text("Répondue").wait_for()
    context.close()
    with app.app_context():
        latest_mail(mailbox, "chromium@example.fr")
    assert any(links(message, "/demande/dossier/") for message in mailbox.to("chromium@example.fr"))
    assert violations == {}
