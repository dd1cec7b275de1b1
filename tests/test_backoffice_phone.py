"""The back-office on a phone (375 × 667 CSS px in Chromium): no axe-core violation on any page, chart text of
12 px at least, references and dates on one line, tables read as lists."""

import pytest

from tests.support.pages import axe_violations
from tests.support.rights import confirmed_request, log_in_browser, staff_action, staff_client

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 667}
# The size each SVG text is drawn at: its font size times the chart's scale (drawn width over viewBox width).
CHART_TEXT = """() => [...document.querySelectorAll('svg.chart')].flatMap(svg => {
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  return [...svg.querySelectorAll('text')].map(t => parseFloat(getComputedStyle(t).fontSize) * scale);
})"""
# The number of lines each reference and date of the queue and the journal takes (its text's line boxes).
ONE_LINERS = """() => [...document.querySelectorAll('table.queue td > a, table.queue td > time, table.queue .nowrap')]
  .map(e => { const range = document.createRange(); range.selectNodeContents(e);
    return [e.textContent.trim(), new Set([...range.getClientRects()].map(r => Math.round(r.top))).size]; })"""


def backoffice_paths(app, mailbox) -> list[str]:
    """Every back-office page a dpo opens, with requests in the queue, a history and a confirmation page."""
    client = app.test_client()
    with app.app_context():
        access = confirmed_request(client, mailbox, "jeanne@example.fr").reference
        erasure = confirmed_request(client, mailbox, "paul@example.fr", kind="erasure").reference
        dpo = staff_client(app, "dpo", "dpo@k-inventory.com")
        staff_action(dpo, access, "prolonger", months="1", reason="Demande complexe")
    return ["/admin/", "/admin/journal", "/admin/conservation", "/admin/tableau-de-bord", "/admin/registre",
            "/admin/clotures", "/admin/opposition", "/admin/politique", f"/admin/demandes/{access}",
            f"/admin/demandes/{erasure}"]


def test_every_back_office_page_at_375_px(live_server, browser, mailbox):
    app = live_server.server.app
    paths = backoffice_paths(app, mailbox)
    context = browser.new_context(viewport=PHONE, locale="fr-FR", bypass_csp=True)  # axe-core is injected inline
    page = context.new_page()
    page.goto(live_server.url + "/admin/connexion")
    page.get_by_role("button", name="Se connecter").click()  # the login page, with its error summary
    violations = {"/admin/connexion": found} if (found := axe_violations(page)) else {}
    log_in_browser(page, live_server, "dpo@k-inventory.com")
    small_text, wrapped, too_wide = {}, {}, {}
    for path in paths:
        page.goto(live_server.url + path, wait_until="networkidle")
        if page.evaluate("document.documentElement.scrollWidth") > PHONE["width"]:
            too_wide[path] = page.evaluate("document.documentElement.scrollWidth")
        sizes = page.evaluate(CHART_TEXT)
        if sizes and min(sizes) < 12:
            small_text[path] = min(sizes)
        wrapped.update({text: lines for text, lines in page.evaluate(ONE_LINERS) if lines > 1})
        found = axe_violations(page)
        if found:
            violations[path] = found
    # the confirmation pages of refusal and erasure
    page.goto(live_server.url + paths[-1])
    page.get_by_role("button", name="Effacer toutes les données de la personne").click()
    page.wait_for_load_state()
    assert "sans retour possible" in page.inner_text("main")
    violations.update({"confirmation": found} if (found := axe_violations(page)) else {})
    context.close()
    assert violations == {}
    assert small_text == {}
    assert wrapped == {}
    assert too_wide == {}
