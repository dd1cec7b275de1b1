"""The newsletter's signed-link pages (which the site-wide page checks cannot reach) are valid HTML in the Nu Html
Checker, and the whole journey — form, real e-mail, confirmation, preferences, unsubscribe — works in Chromium with
no axe-core violation on any page."""

import pytest
import sqlalchemy as sa

from app.datamap import Person, erase_person
from app.extensions import db
from app.newsletter.campaigns import send_campaign
from app.newsletter.links import manage_token
from app.newsletter.models import Subscriber
from app.suppression.services import suppress
from tests.conftest import submit_form
from tests.support.newsletter import confirmed_subscriber, latest_mail, links, path_of, subscribe
from tests.support.pages import axe_violations, vnu_errors


def collect_pages(client, mailbox) -> dict[str, tuple[int, bytes]]:
    """Every kind of newsletter page a signed link leads to, by name: (status, HTML)."""
    pages = {}

    def keep(name: str, response) -> None:
        pages[name] = (response.status_code, response.data)

    person = confirmed_subscriber(client, mailbox, "pages@example.com", ["actualites-produit"], phone="0612345678")
    subscribe(client, "pending@example.com", ["evenements"], phone="0698765432")
    [confirm] = links(latest_mail(mailbox, "pending@example.com"), "/newsletter/confirmer/")
    keep("confirm", client.get(path_of(confirm)))
    keep("confirm-en", client.get(path_of(confirm) + "?lang=en"))
    keep("confirmed", submit_form(client, path_of(confirm), {}))
    keep("already-confirmed", client.get(path_of(confirm)))
    one_list = f"/newsletter/desabonnement/{manage_token(person.public_id, 'actualites-produit')}"
    every_list = f"/newsletter/desabonnement/{manage_token(person.public_id)}"
    keep("unsubscribe", client.get(one_list))
    keep("unsubscribe-all-en", client.get(every_list + "?lang=en"))
    preferences = f"/newsletter/preferences/{manage_token(person.public_id)}"
    keep("preferences-error", submit_form(client, preferences, {"action": "save", "lists": ["inconnue"]}))
    keep("unsubscribed", client.post(one_list))
    keep("resubscribe", client.get(one_list.replace("desabonnement", "reabonnement")))
    keep("preferences", client.get(preferences))
    keep("preferences-en", client.get(preferences + "?lang=en"))
    suppress("email", email="pages@example.com", source="rights", reason="restriction")
    db.session.commit()
    keep("preferences-restricted", client.get(preferences))
    subscribe(client, "late@example.com", ["evenements"])
    [late] = links(latest_mail(mailbox, "late@example.com"), "/newsletter/confirmer/")
    suppress("email", email="late@example.com", source="rights", reason="restriction")
    db.session.commit()
    keep("restricted", submit_form(client, path_of(late), {}))
    keep("invalid", client.get(one_list[:-6]))
    erase_person(Person(email="pages@example.com"))
    db.session.commit()
    keep("gone", client.get(preferences))
    return pages


def test_every_signed_link_page_validates_in_the_nu_html_checker(client, mailbox, policy, tmp_path):
    pages = collect_pages(client, mailbox)
    assert {name: status for name, (status, _html) in pages.items()} == {
        "confirm": 200, "confirm-en": 200, "confirmed": 200, "already-confirmed": 200, "unsubscribe": 200,
        "unsubscribe-all-en": 200, "preferences-error": 400, "unsubscribed": 200, "resubscribe": 200,
        "preferences": 200, "preferences-en": 200, "preferences-restricted": 200, "restricted": 409,
        "invalid": 400, "gone": 404}
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

    page.goto(live_server.url + "/newsletter")
    check("form")
    page.fill("#email", "chromium@example.com")
    page.get_by_label("Événements").check()
    page.locator("#consent").check()
    page.get_by_role("button", name="M’inscrire").click()
    page.get_by_role("heading", name="Vérifiez vos e-mails").wait_for()
    check("check-inbox")
    with app.app_context():
        [confirm] = links(latest_mail(mailbox, "chromium@example.com"), "/newsletter/confirmer/")
    page.goto(confirm)
    check("confirm")
    page.get_by_role("button", name="Confirmer mon inscription").click()
    page.get_by_role("heading", name="Inscription confirmée").wait_for()
    check("confirmed")
    page.get_by_role("link", name="Gérer mes préférences").click()
    page.get_by_role("heading", name="Mes préférences de newsletter").wait_for()
    assert page.get_by_role("cell", name="Consentement confirmé").count() == 1
    check("preferences")
    with app.app_context():
        send_campaign("evenements", "Salon", "Bonjour,\n\nÀ bientôt au salon.\n", "<p>À bientôt au salon.</p>")
        [unsubscribe] = links(latest_mail(mailbox, "chromium@example.com"), "/newsletter/desabonnement/")
    page.goto(unsubscribe)
    check("unsubscribe")
    page.get_by_role("button", name="Me désabonner").click()
    page.get_by_role("heading", name="Vous êtes désabonné").wait_for()
    check("unsubscribed")
    context.close()
    with app.app_context():
        person = db.session.scalar(sa.select(Subscriber).where(Subscriber.email == "chromium@example.com"))
        assert person.subscription("evenements").status == "unsubscribed"
    assert violations == {}

