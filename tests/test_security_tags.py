"""Tag scope: consented tags and their CSP hosts on the public pages of one allow-list only; every other page (the
back-office, signed links, /contact, error pages) sends no referrer and is never cached."""

import pytest

from app.consent.register import REGISTER
from app.headers import PUBLIC_PAGES
from app.newsletter.links import manage_token
from tests.support.consent import choose
from tests.support.newsletter import confirmed_subscriber, links, path_of
from tests.support.rights import confirmed_request, latest_mail, staff_client

TAG_HOSTS = {host for category in REGISTER.optional for service in category.services if service.tag
             for hosts in service.tag.csp.values() for host in hosts}
TAG_MARK = "data-consent-tag="


def assert_private(response) -> None:
    """No tag, no tag host in the CSP, no referrer, not cached."""
    html, csp = response.get_data(as_text=True), response.headers["Content-Security-Policy"]
    assert TAG_MARK not in html and "gtag(" not in html and "fbq(" not in html
    assert not [host for host in TAG_HOSTS if host in csp], csp
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "private, no-store"


def assert_tags(response) -> None:
    """The accepted tags and their hosts."""
    html, csp = response.get_data(as_text=True), response.headers["Content-Security-Policy"]
    assert TAG_MARK in html and all(host in csp for host in TAG_HOSTS)
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_the_allow_list_names_only_pages_without_personal_data(app):
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint in PUBLIC_PAGES]
    assert {rule.endpoint for rule in rules} == PUBLIC_PAGES
    assert not [rule.rule for rule in rules if "token" in rule.rule or rule.rule.startswith(("/admin", "/contact"))]


def test_a_staff_member_who_accepted_everything_runs_no_tag_in_the_back_office(app, mailbox, policy):
    visitor = app.test_client()
    request_ = confirmed_request(visitor, mailbox)
    staff = staff_client(app)
    assert choose(staff, "accept_all").status_code == 303
    assert_tags(staff.get("/"))
    for url in ("/admin/", f"/admin/demandes/{request_.reference}", "/admin/demandes/DR-0000-000000"):
        assert_private(staff.get(url))


def test_signed_link_pages_contact_and_errors_run_no_tag(app, client, mailbox, policy):
    person = confirmed_subscriber(client, mailbox, "marie@example.fr", phone="+33612345678")
    preferences = f"/newsletter/preferences/{manage_token(person.public_id, 'actualites-produit')}"
    assert "marie@example.fr" in client.get(preferences).get_data(as_text=True)
    confirmed_request(client, mailbox, "paul@example.fr")
    [status] = links(latest_mail(mailbox, "paul@example.fr"), "/demande/")[-1:]
    assert choose(client, "accept_all").status_code == 303
    assert_tags(client.get("/confidentialite"))
    for url in (preferences, path_of(status), "/contact", "/en/contact", "/page-inconnue",
                "/confidentialite/versions/999", "/demande/pas-un-lien", "/newsletter/desabonnement/x.y"):
        assert_private(client.get(url))


def test_while_the_banner_is_open_only_public_pages_allow_tag_hosts(client, policy):
    assert all(host in client.get("/").headers["Content-Security-Policy"] for host in TAG_HOSTS)
    for url in ("/admin/connexion", "/contact", "/page-inconnue"):
        response = client.get(url)
        assert 'data-tags="0"' in response.get_data(as_text=True)
        assert_private(response)


def test_a_form_post_on_a_public_page_is_private(client, policy):
    response = client.post("/newsletter", data={"email": "x@example.fr"})
    assert response.headers["Cache-Control"] == "private, no-store"


@pytest.mark.browser
def test_accepting_in_chromium_on_a_back_office_page_starts_nothing(browser, live_server, page):
    outside = []
    page.route("**/*", lambda route: route.continue_() if "127.0.0.1" in route.request.url
               else (outside.append(route.request.url), route.fulfill(status=200, body="")))
    page.goto(live_server.url + "/admin/connexion")
    page.wait_for_load_state("networkidle")
    page.get_by_role("region", name="Vos choix en matière de cookies").get_by_role(
        "button", name="Tout accepter").click()
    page.locator("#cc").wait_for(state="detached")
    page.wait_for_load_state("networkidle")
    assert outside == [] and page.locator("script[data-consent-tag]").count() == 0
    page.goto(live_server.url + "/")
    page.wait_for_load_state("networkidle")
    assert outside, "the tags start on a public page once accepted"
