"""Every page at 320 × 640 CSS px in Chromium: no sideways scroll, choices on the line of their label, big targets."""

import pytest

from tests.conftest import deliver_mail, submit_form
from tests.support.newsletter import LINK, confirmed_subscriber, path_of, text_part
from tests.support.rights import confirmed_request, log_in_browser, staff_client

pytestmark = pytest.mark.browser

SMALL_SCREEN = {"width": 320, "height": 640}
# For every visible radio button and checkbox (the consent switches are styled apart): its size, whether its label's
# first line shares its line, and the label's weight.
CHOICES_JS = """() => [...document.querySelectorAll('input[type=radio], input[type=checkbox]:not([role=switch])')]
  .filter(input => input.offsetParent !== null)
  .map(input => {
    const box = input.getBoundingClientRect();
    const label = input.labels[0];
    const first = label ? label.getClientRects()[0] : null;
    return {name: input.name + '=' + input.value, width: box.width, height: box.height,
            sameLine: !!first && first.top < box.bottom && first.bottom > box.top && first.left >= box.right,
            weight: label ? getComputedStyle(label).fontWeight : null};
  })"""


def site_paths(app, base_url: str, mailbox) -> list[str]:
    """Every GET page without arguments, the back-office included, and every page a link of the site's mail opens."""
    client = app.test_client()
    with app.app_context():
        confirmed_subscriber(client, mailbox, "camille@example.fr", phone="+33612345678")
        request_ = confirmed_request(client, mailbox, "jeanne@example.fr", kind="rectification",
                                     correction="Mon nom s’écrit Martin.")
        submit_form(client, "/newsletter", {"form": "link", "email": "camille@example.fr"})
        deliver_mail()
        staff_client(app, "dpo", "dpo@k-inventory.com")
        reference = request_.reference
    paths = {rule.rule for rule in app.url_map.iter_rules()
             if "GET" in rule.methods and rule.endpoint != "static" and not rule.arguments - set(rule.defaults or {})}
    paths -= {"/healthz", "/readyz", "/metrics", "/webhooks/sms"}
    mailed = {path_of(link) for message in mailbox.messages for link in LINK.findall(text_part(message))
              if link.startswith(base_url) and "/dossier/" not in link}
    return sorted(paths | mailed | {f"/admin/demandes/{reference}", "/confidentialite/versions/1",
                                         "/en/privacy/versions/1", "/page-inconnue"})


def log_in(page, live_server) -> None:
    """Log the page's browser in as the DPO."""
    log_in_browser(page, live_server, "dpo@k-inventory.com")


def test_every_page_reflows_at_320_px_with_choices_beside_their_labels(live_server, browser, mailbox):
    app = live_server.server.app
    paths = site_paths(app, live_server.url, mailbox)
    context = browser.new_context(viewport=SMALL_SCREEN, locale="fr-FR")
    page = context.new_page()
    log_in(page, live_server)
    too_wide, bad_choices, checked = {}, {}, 0
    for path in paths:
        if path.startswith("/admin/deconnexion"):
            continue
        page.goto(live_server.url + path, wait_until="networkidle")  # every file loaded before the next page
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > SMALL_SCREEN["width"]:
            too_wide[path] = width
        for choice in page.evaluate(CHOICES_JS):
            checked += 1
            if not choice["sameLine"] or choice["width"] < 24 or choice["height"] < 24 or choice["weight"] != "400":
                bad_choices.setdefault(path, []).append(choice)
    context.close()
    assert len(paths) >= 29, "\n".join(paths)
    assert checked > 20  # the contact form's types, the newsletter's lists, the preference centre, the back-office
    assert too_wide == {}
    assert bad_choices == {}
