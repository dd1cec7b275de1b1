"""The focus ring: whatever the keyboard reaches, on every background of the site, its outline has at least 3:1
contrast with the colour beside it (WCAG 1.4.11), computed from Chromium's computed styles."""

import pytest

from tests.support.rights import log_in_browser, staff_client

pytestmark = pytest.mark.browser

# The focused element's outline, and the colour it is drawn on: the first opaque background from the element (an
# outline drawn inside it) or from its parent (an outline drawn around it) up to the page.
RING = """() => {
  const e = document.activeElement, s = getComputedStyle(e);
  let node = parseFloat(s.outlineOffset) < 0 ? e : e.parentElement, background = 'rgb(255, 255, 255)';
  for (; node; node = node.parentElement) {
    const colour = getComputedStyle(node).backgroundColor;
    if (colour !== 'rgba(0, 0, 0, 0)' && colour !== 'transparent') { background = colour; break; }
  }
  if (e === document.body || e.tagName === 'MAIN') return null;  // nothing focused; the skip link's target
  return {label: (e.id || e.textContent || e.name || e.tagName).trim().slice(0, 40), style: s.outlineStyle,
          width: parseFloat(s.outlineWidth), colour: s.outlineColor, background};
}"""


def luminance(colour: str) -> float:
    """The relative luminance of an rgb()/rgba() colour (WCAG 2)."""
    channels = [float(part) / 255 for part in colour[colour.index("(") + 1:-1].split(",")[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    """The contrast ratio of two colours."""
    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def weak_rings(page, url: str, presses: int = 60) -> list[dict]:
    """Tab through the page; every focus whose ring is missing, thinner than 2 px or under 3:1."""
    page.goto(url, wait_until="networkidle")
    weak = []
    for _ in range(presses):
        page.keyboard.press("Tab")
        ring = page.evaluate(RING)
        if ring is None:
            continue
        ring["contrast"] = round(contrast(ring["colour"], ring["background"]), 2)
        if ring["style"] == "none" or ring["width"] < 2 or ring["contrast"] < 3:
            weak.append(ring)
    return weak


def test_the_focus_ring_has_3_to_1_on_public_pages_the_banner_and_the_footer(live_server, browser):
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    weak = {path: weak_rings(page, live_server.url + path) for path in ("/confidentialite", "/contact", "/newsletter",
                                                                        "/cookies", "/en/privacy")}
    context.close()
    assert weak == dict.fromkeys(weak, [])


def test_the_focus_ring_has_3_to_1_in_the_back_office(live_server, browser):
    app = live_server.server.app
    with app.app_context():
        staff_client(app, "dpo", "dpo@k-inventory.com")
    context = browser.new_context(locale="fr-FR", viewport={"width": 375, "height": 667})
    page = context.new_page()
    log_in_browser(page, live_server, "dpo@k-inventory.com")
    weak = {path: weak_rings(page, live_server.url + path, 30) for path in ("/admin/", "/admin/tableau-de-bord")}
    context.close()
    assert weak == dict.fromkeys(weak, [])
