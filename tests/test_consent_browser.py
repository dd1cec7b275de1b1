"""The banner in Debian's Chromium, with JavaScript on and off: accept, refuse, customise, withdraw, the banner's
return, no third-party request or tracking cookie before consent, layout shift 0, axe-core clean.

Every request that would leave 127.0.0.1 is intercepted: it is recorded and answered locally, never sent.
"""

import time
from dataclasses import replace
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from app.consent.register import CONSENT_COOKIE, REGISTER, VARIANT_COOKIE
from tests.support.consent import records
from tests.support.pages import axe_violations

pytestmark = pytest.mark.browser

CHOICE_COOKIES = {CONSENT_COOKIE, VARIANT_COOKIE}  # the signed proof and the page variant, set together
NECESSARY_COOKIES = {"session", *CHOICE_COOKIES}  # a session only after a form sent without JavaScript (its message)
TAG_HOSTS = {"www.googletagmanager.com", "connect.facebook.net", "www.dwin1.com"}
STUB_SCRIPT = "window.__stubs = (window.__stubs || 0) + 1;"
# What Meta's fbevents.js does once started: load its configuration as a second script from its own host.
META_CONFIG = "https://connect.facebook.net/signals/config/1122334455667788"
# Each tag's script, served in its place: it sets the cookies its provider documents, for the lifetime the page
# configured (Google) or the provider fixes (Meta, Awin). See tests/tag_stubs/.
STUB_DIR = Path(__file__).parent / "tag_stubs"
STUBS = {"googletagmanager.com/gtag/js": "gtag.js", "connect.facebook.net/en_US/fbevents.js": "fbevents.js",
         "www.dwin1.com/": "awin.js"}
# Every layout shift since the page started, read at once (so it works with JavaScript off as well).
LAYOUT_SHIFTS = """(() => { const o = new PerformanceObserver(() => {});
  o.observe({type: 'layout-shift', buffered: true});
  return o.takeRecords().map(e => ({value: e.value, input: e.hadRecentInput})); })()"""
# The focused element's box, and the banner's top edge (null when focus is in the banner or on the page itself).
FOCUS_AND_BANNER = """(() => { const e = document.activeElement, cc = document.getElementById('cc');
  if (!cc || !e || e === document.body || cc.contains(e)) return null;
  const r = e.getBoundingClientRect(); return {top: r.top, bottom: r.bottom, banner: cc.getBoundingClientRect().top,
  label: e.textContent.trim().slice(0, 40)}; })()"""
GPC_ON = "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true});"


class Visitor:
    """A browser context whose requests off 127.0.0.1 are intercepted, recorded and answered locally."""

    def __init__(self, browser, live_server, javascript: bool = True, **options) -> None:
        self.live_server = live_server
        self.context = browser.new_context(java_script_enabled=javascript, locale="fr-FR", **options)
        self.outside: list[str] = []
        self.context.route("**/*", self.intercept)
        self.page = self.context.new_page()

    def intercept(self, route) -> None:
        """Let loopback requests through; record and stub every other one."""
        url = route.request.url
        if urlsplit(url).hostname == "127.0.0.1":
            route.continue_()
            return
        self.outside.append(url)
        stub = next((STUB_DIR / name for prefix, name in STUBS.items() if prefix in url), None)
        body = stub.read_text(encoding="utf-8") if stub else STUB_SCRIPT
        route.fulfill(status=200, content_type="application/javascript", body=body)

    def open(self, path: str):
        """Go to a page of the live site and wait until the network is quiet."""
        self.page.goto(self.live_server.url + path)
        self.page.wait_for_load_state("networkidle")
        return self.page

    def hosts_contacted(self) -> set[str]:
        """Hosts other than 127.0.0.1 the page tried to reach."""
        return {urlsplit(url).hostname for url in self.outside}

    def cookie_names(self) -> set[str]:
        """Names of the cookies the browser holds."""
        return {cookie["name"] for cookie in self.context.cookies()}

    def banner(self):
        """The banner region."""
        return self.page.get_by_role("region", name="Vos choix en matière de cookies")

    def choose(self, button: str) -> None:
        """Press a banner button and wait until the banner is gone (closed by script, or a new page)."""
        self.banner().get_by_role("button", name=button).click()
        self.page.locator("#cc").wait_for(state="detached")
        self.page.wait_for_load_state("networkidle")

    def close(self) -> None:
        """Close the context."""
        self.context.close()


def wait_for_stubs(page, count: int, timeout: float = 10) -> None:
    """Wait until `count` stubbed third-party scripts have run (polled from here: the page's CSP forbids eval)."""
    deadline = time.monotonic() + timeout
    while page.evaluate("window.__stubs || 0") < count:
        assert time.monotonic() < deadline, f"fewer than {count} third-party scripts ran"
        page.wait_for_timeout(50)


@pytest.fixture
def visitor_factory(browser, live_server):
    """Make visitors (JavaScript on by default) and close them after the test."""
    made = []

    def make(javascript: bool = True, **options) -> Visitor:
        visitor = Visitor(browser, live_server, javascript, **options)
        made.append(visitor)
        return visitor

    yield make
    for visitor in made:
        visitor.close()


def app_of(live_server):
    """The Flask app the live server runs."""
    return live_server.server.app


def proof(live_server):
    """The consent records, read from the live server's database."""
    with app_of(live_server).app_context():
        return [(r.action, r.source, r.channel, dict(r.choices)) for r in records()]


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_no_third_party_request_and_no_tracking_cookie_before_consent(visitor_factory, javascript):
    visitor = visitor_factory(javascript)
    for path in ("/", "/confidentialite", "/cookies", "/en/privacy"):
        visitor.open(path)
    assert visitor.outside == []
    assert visitor.cookie_names() == set()  # a page view sets no cookie at all
    assert visitor.page.get_by_role("region", name="Your cookie choices").is_visible()


def test_accept_with_javascript_closes_without_reload_and_starts_the_tags(visitor_factory, live_server):
    visitor = visitor_factory()
    page = visitor.open("/confidentialite")
    page.evaluate("window.__same_page = true")
    visitor.banner().get_by_role("button", name="Tout accepter").click()
    page.locator("#cc").wait_for(state="detached")
    wait_for_stubs(page, 3)
    assert page.evaluate("window.__same_page") is True
    assert visitor.hosts_contacted() == TAG_HOSTS
    assert page.evaluate("""dataLayer.some(a => a[0] === 'consent' && a[1] === 'update'
                            && a[2].analytics_storage === 'granted' && a[2].ad_user_data === 'granted')""")
    expect(page.get_by_role("status")).to_contain_text("enregistrés")
    assert page.evaluate("document.activeElement.id") == "contenu"
    assert CONSENT_COOKIE in visitor.cookie_names()
    assert proof(live_server)[0][:3] == ("accept_all", "banner", "js")
    visitor.open("/")
    assert not visitor.banner().count()
    assert page.locator("script[data-consent-tag]").count() >= 4


def test_accept_without_javascript_posts_and_comes_back(visitor_factory, live_server):
    visitor = visitor_factory(javascript=False)
    page = visitor.open("/confidentialite")
    visitor.banner().get_by_role("button", name="Tout accepter").click()
    page.wait_for_url(live_server.url + "/confidentialite")
    assert not visitor.banner().count()
    assert "Vos choix en matière de cookies sont enregistrés" in page.locator(".flashes").inner_text()
    assert proof(live_server)[0][:3] == ("accept_all", "banner", "no-js")
    assert visitor.outside == []  # scripts do not run without JavaScript


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
@pytest.mark.parametrize("button", ["Tout refuser", "Continuer sans accepter"])
def test_refuse_and_continue_without_accepting(visitor_factory, live_server, javascript, button):
    visitor = visitor_factory(javascript)
    page = visitor.open("/confidentialite")
    visitor.banner().get_by_role("button", name=button).click()
    page.locator("#cc").wait_for(state="detached")
    for path in ("/", "/confidentialite"):
        visitor.open(path)
        assert not visitor.banner().count()
    assert visitor.outside == []
    assert CHOICE_COOKIES <= visitor.cookie_names() <= NECESSARY_COOKIES
    [(action, source, channel, choices)] = proof(live_server)
    assert action in ("refuse_all", "continue_without_accepting") and not any(choices.values())
    assert channel == ("js" if javascript else "no-js")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_customise_one_category(visitor_factory, live_server, javascript):
    visitor = visitor_factory(javascript)
    page = visitor.open("/confidentialite")
    visitor.banner().get_by_role("button", name="Personnaliser").click()
    page.wait_for_url("**/cookies?next=%2Fconfidentialite")
    assert page.get_by_role("switch", name="Accepter Mesure d’audience").is_checked() is False
    page.get_by_role("switch", name="Accepter Mesure d’audience").check()
    page.get_by_role("button", name="Enregistrer mes choix").click()
    page.wait_for_url(live_server.url + "/confidentialite")
    page.wait_for_load_state("networkidle")
    assert not visitor.banner().count()
    assert proof(live_server)[0][3] == {"analytics": True, "advertising": False, "affiliation": False}
    if javascript:
        assert visitor.hosts_contacted() == {"www.googletagmanager.com"}
    else:
        assert visitor.outside == []


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_withdraw_from_the_footer_link(visitor_factory, live_server, javascript):
    visitor = visitor_factory(javascript)
    page = visitor.open("/")
    visitor.choose("Tout accepter")
    visitor.context.add_cookies([
        {"name": "_ga", "value": "GA1.1.1", "url": live_server.url},
        {"name": "_ga_K1NV3NT0RY", "value": "GS1.1", "url": live_server.url},
        {"name": "_fbp", "value": "fb.1", "url": live_server.url},
    ])
    page.get_by_role("contentinfo").get_by_role("link", name="Gestion des cookies").click()
    page.wait_for_url("**/cookies")
    assert page.get_by_role("switch", name="Accepter Mesure d’audience").is_checked()
    page.get_by_role("button", name="Tout refuser").click()
    page.wait_for_url("**/cookies")
    assert "enregistrés" in page.locator(".flashes").inner_text()
    assert not page.get_by_role("switch", name="Accepter Mesure d’audience").is_checked()
    assert CHOICE_COOKIES <= visitor.cookie_names() <= NECESSARY_COOKIES
    contacted = len(visitor.outside)
    visitor.open("/confidentialite")
    assert len(visitor.outside) == contacted and not visitor.banner().count()
    assert [entry[0] for entry in proof(live_server)] == ["accept_all", "refuse_all"]
    channel = "js" if javascript else "no-js"
    assert [entry[2] for entry in proof(live_server)] == [channel, "no-js"]


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_banner_returns_after_the_register_version_changes(visitor_factory, live_server, javascript):
    visitor = visitor_factory(javascript)
    visitor.open("/")
    visitor.choose("Tout accepter")
    visitor.open("/")
    assert not visitor.banner().count()
    tags_before = visitor.page.locator("script[data-consent-tag]").count()
    app_of(live_server).config["CONSENT_REGISTER"] = replace(REGISTER, version="2099-01-01")
    outside = len(visitor.outside)
    visitor.open("/")
    expect(visitor.banner()).to_be_visible()
    assert tags_before >= 4 and visitor.page.locator("script[data-consent-tag]").count() == 0
    assert len(visitor.outside) == outside  # the old consent no longer starts any tag
    visitor.choose("Tout refuser")
    assert proof(live_server)[-1][0] == "refuse_all"
    with app_of(live_server).app_context():
        assert records()[-1].register_version == "2099-01-01"


def test_banner_is_reached_right_after_the_skip_link(visitor_factory):
    visitor = visitor_factory()
    page = visitor.open("/confidentialite")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('#cc') !== null")
    assert page.evaluate("document.activeElement.tagName") == "BUTTON"


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_layout_shift_is_zero(visitor_factory, javascript):
    visitor = visitor_factory(javascript)
    page = visitor.open("/confidentialite")
    expect(visitor.banner()).to_be_visible()
    page.mouse.wheel(0, 600)
    page.wait_for_timeout(200)
    assert page.evaluate(LAYOUT_SHIFTS) == []
    visitor.choose("Tout refuser")
    page.mouse.wheel(0, 600)
    page.wait_for_timeout(200)
    assert [shift for shift in page.evaluate(LAYOUT_SHIFTS) if not shift["input"]] == []


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
@pytest.mark.parametrize("viewport", [(360, 740), (412, 823), (1280, 720)], ids=["360", "412", "1280"])
def test_keyboard_focus_is_never_hidden_behind_the_banner(visitor_factory, javascript, viewport):
    width, height = viewport
    visitor = visitor_factory(javascript, viewport={"width": width, "height": height})
    page = visitor.open("/confidentialite")
    expect(visitor.banner()).to_be_visible()
    seen = 0
    for _ in range(35):
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUS_AND_BANNER)
        if focus is None:
            continue
        seen += 1
        assert focus["top"] < focus["banner"] - 1, f"{focus['label']!r} is hidden behind the banner"
    assert seen >= 25


def test_the_end_of_the_page_can_be_scrolled_above_the_banner(visitor_factory):
    visitor = visitor_factory(viewport={"width": 412, "height": 823})
    page = visitor.open("/confidentialite")
    expect(visitor.banner()).to_be_visible()
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    legal = page.locator(".site-footer .legal").bounding_box()
    assert legal["y"] + legal["height"] <= visitor.banner().bounding_box()["y"]


def test_banner_overlays_the_bottom_of_the_viewport_and_leaves_the_page_usable(visitor_factory):
    visitor = visitor_factory(viewport={"width": 412, "height": 823})
    page = visitor.open("/confidentialite")
    box = visitor.banner().bounding_box()
    assert box["y"] + box["height"] == pytest.approx(823, abs=1)
    assert box["height"] < 823 * 0.66
    page.get_by_role("link", name="Historique des versions").click()
    page.wait_for_url("**/confidentialite/versions")
    sizes = page.evaluate("""[...document.querySelectorAll('.cc-btn')].map(b => {
        const r = b.getBoundingClientRect(); return [r.width, r.height, b.scrollWidth <= b.clientWidth]; })""")
    assert len(sizes) == 3 and all(fits for _w, _h, fits in sizes)
    assert max(w for w, _h, _f in sizes) - min(w for w, _h, _f in sizes) < 1
    assert max(h for _w, h, _f in sizes) - min(h for _w, h, _f in sizes) < 1


@pytest.mark.parametrize("path", ["/confidentialite", "/en/privacy", "/cookies", "/en/cookies"])
def test_axe_finds_no_violation_with_the_banner_and_on_the_preferences_page(browser, live_server, path):
    context = browser.new_context(bypass_csp=True, locale="fr-FR")
    page = context.new_page()
    page.goto(live_server.url + path)
    if "cookies" not in path:
        expect(page.locator("#cc")).to_be_visible()  # its stylesheet comes after the page's load event
    violations = axe_violations(page)
    context.close()
    assert violations == []


def test_gpc_seen_by_javascript_is_recorded(visitor_factory, live_server):
    visitor = visitor_factory()
    visitor.context.add_init_script(GPC_ON)
    with visitor.page.expect_response("**/cookies/gpc") as answer:
        visitor.open("/")
    assert answer.value.json() == {"ok": True, "recorded": True}
    assert proof(live_server)[0][:3] == ("gpc_signal", "gpc", "js")
    visitor.open("/")
    assert "Global Privacy Control" in visitor.banner().inner_text()
    visitor.banner().get_by_role("button", name="Tout accepter").click()
    visitor.page.locator("#cc").wait_for(state="detached")
    assert proof(live_server)[-1][3]["advertising"] is False
    assert "connect.facebook.net" not in visitor.hosts_contacted()


def test_gpc_header_is_honoured_without_javascript(visitor_factory, live_server):
    visitor = visitor_factory(javascript=False, extra_http_headers={"Sec-GPC": "1"})
    visitor.open("/cookies")
    assert "Global Privacy Control (GPC)" in visitor.page.get_by_role("note").first.inner_text()
    assert proof(live_server) == []  # recorded once the browser sends the consent cookie back
    visitor.open("/")
    visitor.open("/confidentialite")
    assert [row[:3] for row in proof(live_server)] == [("gpc_signal", "gpc", "header")]


def test_the_banner_loads_after_the_page_has_painted(visitor_factory):
    visitor = visitor_factory()
    page = visitor.open("/confidentialite")
    expect(visitor.banner()).to_be_visible()
    timing = page.evaluate("""(() => {
      const start = name => performance.getEntriesByType('resource').find(e => e.name.includes(name)).startTime;
      return {js: start('/static/consent/banner.js'), css: start('/static/consent/banner.css'),
              load: performance.getEntriesByType('navigation')[0].loadEventEnd,
              paint: performance.getEntriesByName('first-contentful-paint')[0].startTime}; })()""")
    assert timing["js"] >= timing["load"] and timing["js"] >= timing["paint"]
    assert timing["css"] > timing["js"]


def test_accepted_tags_load_their_own_scripts_at_once(visitor_factory, live_server):
    visitor = visitor_factory()
    page = visitor.open("/")
    messages = []
    page.on("console", lambda message: messages.append(message.text))
    visitor.choose("Tout accepter")
    wait_for_stubs(page, 4)  # the three tag scripts (one gtag.js for both Google services), then Meta's own
    assert META_CONFIG in visitor.outside  # not blocked by the Content-Security-Policy
    assert not [text for text in messages if "Content Security Policy" in text]


# A visitor landing from an ad or an affiliate link: every tag then sets its click cookies as well.
LANDING = "/confidentialite?gclid=Tgclid&fbclid=Tfbclid&awc=112233_1764460800_a1b2"
LANDING_COOKIES = {"_ga", "_ga_K1NV3NT0RY", "_gcl_au", "_gcl_aw", "_fbp", "_fbc", "_aw_m_112233", "_aw_j_112233"}


def declared_cookie(name: str):
    """The register's entry for a cookie name (exact names first), or None when the register does not declare it."""
    entries = [cookie for category in REGISTER.categories for cookie in category.cookies if cookie.matches(name)]
    return min(entries, key=lambda cookie: cookie.is_pattern, default=None)


def calendar_days(months: int) -> int:
    """Days from today to the same day `months` later (a day past the month's end runs over, as in JavaScript)."""
    today = date.today()
    year, month = divmod(today.month - 1 + months, 12)
    first = date(today.year + year, month + 1, 1)
    return (first - today).days + today.day - 1


def lifetime_problems(cookies: list[dict]) -> list[str]:
    """Cookies the register does not declare, or whose expiry is not the declared lifetime (a month: 28 to 31 days)."""
    problems, now = [], time.time()
    for cookie in cookies:
        declared = declared_cookie(cookie["name"])
        if declared is None:
            problems.append(f"{cookie['name']}: not in the register")
            continue
        lifetime = declared.lifetime
        if lifetime.unit == "session":
            if cookie["expires"] != -1:
                problems.append(f"{cookie['name']}: persistent, declared for the browser session")
            continue
        days = (cookie["expires"] - now) / 86_400
        low, high = (lifetime.count * 28 - 1, calendar_days(lifetime.count) + 1) if lifetime.unit == "month" \
            else (lifetime.count - 1, lifetime.count + 1)
        if not low <= days <= high:
            problems.append(f"{cookie['name']}: lives {days:.1f} days, declared {lifetime.count} {lifetime.unit}(s)")
    return problems


def google_commands(page, name: str) -> int:
    """How many `gtag(name, ...)` commands the page's dataLayer holds."""
    return page.evaluate(f"dataLayer.filter(a => a[0] === '{name}').length")


def test_accepting_everything_leaves_only_declared_cookies_with_declared_lifetimes(visitor_factory):
    visitor = visitor_factory()
    page = visitor.open(LANDING)
    visitor.banner().get_by_role("button", name="Tout accepter").click()
    page.locator("#cc").wait_for(state="detached")
    wait_for_stubs(page, 4)  # gtag.js once, fbevents.js and Meta's configuration, Awin's MasterTag
    assert google_commands(page, "js") == 1 and google_commands(page, "config") == 2
    visitor.open(LANDING)  # the next page: the server renders the tags
    wait_for_stubs(page, 4)
    assert google_commands(page, "js") == 1 and google_commands(page, "config") == 2
    assert sum("googletagmanager.com/gtag/js" in url for url in visitor.outside) == 2  # one a page
    cookies = visitor.context.cookies()
    names = {cookie["name"] for cookie in cookies}
    assert CHOICE_COOKIES | LANDING_COOKIES <= names <= NECESSARY_COOKIES | LANDING_COOKIES
    assert lifetime_problems(cookies) == []


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_refusing_leaves_only_the_strictly_necessary_cookies(visitor_factory, javascript):
    visitor = visitor_factory(javascript)
    page = visitor.open(LANDING)
    visitor.banner().get_by_role("button", name="Tout refuser").click()
    page.locator("#cc").wait_for(state="detached")
    visitor.open(LANDING)
    assert visitor.outside == []
    cookies = visitor.context.cookies()
    assert CHOICE_COOKIES <= {cookie["name"] for cookie in cookies} <= NECESSARY_COOKIES
    assert lifetime_problems(cookies) == []


def test_a_tag_left_to_its_default_lifetime_is_caught(visitor_factory, live_server):
    """The check itself: GA4 without `cookie_expires` sets `_ga` for Google's two years, and the check says so."""
    analytics = REGISTER.category("analytics")
    service = analytics.services[0]
    default_tag = replace(service.tag, snippet="gtag('config','G-K1NV3NT0RY');")
    register = replace(REGISTER, categories=tuple(
        replace(category, services=(replace(service, tag=default_tag),)) if category is analytics else category
        for category in REGISTER.categories))
    app_of(live_server).config["CONSENT_REGISTER"] = register
    visitor = visitor_factory()
    visitor.open("/")
    visitor.choose("Tout accepter")
    wait_for_stubs(visitor.page, 4)
    problems = lifetime_problems(visitor.context.cookies())
    assert {problem.split(":")[0] for problem in problems} == {"_ga", "_ga_K1NV3NT0RY"}
    assert all("lives 400.0 days" in problem for problem in problems)  # Chromium caps any cookie at 400 days


# Each of the banner's four choices: its box, whether it is the element found at its own centre (in view, not
# clipped by a scroll box), whether its text fits, and the styles that make it prominent.
CHOICES_IN_VIEW = """() => [...document.querySelectorAll('#cc button')].map(b => {
  const r = b.getBoundingClientRect(), s = getComputedStyle(b);
  return {label: b.textContent.trim(), top: r.top, bottom: r.bottom, width: r.width, height: r.height,
          hit: document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2) === b,
          fits: b.scrollWidth <= b.clientWidth,
          look: [s.backgroundColor, s.color, s.fontSize, s.fontWeight, s.borderTopWidth].join(' ')};
})"""


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
@pytest.mark.parametrize("path", ["/confidentialite", "/en/privacy"])
@pytest.mark.parametrize("viewport", [(360, 640), (568, 320), (320, 568)], ids=["360x640", "568x320", "320x568"])
def test_banner_takes_at_most_40_percent_of_a_phone_with_every_choice_in_view(visitor_factory, javascript, path,
                                                                                 viewport):
    width, height = viewport
    visitor = visitor_factory(javascript, viewport={"width": width, "height": height}, has_touch=True)
    visitor.open(path)
    banner = visitor.page.locator("#cc")
    expect(banner).to_be_visible()
    box = banner.bounding_box()
    assert box["y"] + box["height"] == pytest.approx(height, abs=1)
    assert box["height"] <= 0.40 * height, f"{box['height'] / height:.0%} of the screen"
    choices = {choice["label"]: choice for choice in visitor.page.evaluate(CHOICES_IN_VIEW)}
    assert len(choices) == 4
    for choice in choices.values():
        assert choice["hit"] and choice["fits"] and box["y"] <= choice["top"] and choice["bottom"] <= height, choice
    accept, refuse = (choices["Tout accepter"], choices["Tout refuser"]) if path == "/confidentialite" else (
        choices["Accept all"], choices["Refuse all"])
    assert accept["look"] == refuse["look"]
    assert accept["width"] == pytest.approx(refuse["width"], abs=1)
    assert accept["height"] == pytest.approx(refuse["height"], abs=1)
