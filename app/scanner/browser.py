"""What a browser sees: Debian's Chromium driven by Playwright, once per consent state, following internal links.

The consent is given as a visitor gives it, on the preferences page; what the page sets or requests afterwards is
recorded (cookies with their attributes, localStorage keys, the hosts requested).
"""

import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urldefrag, urlsplit

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SKIPPED_PATHS = ("/admin", "/static/", "/webhooks", "/metrics", "/healthz", "/readyz")
LINKS_JS = "Array.from(document.querySelectorAll('a[href]'), a => a.href)"
STORAGE_JS = "(() => { try { return Object.keys(window.localStorage); } catch (e) { return []; } })()"


@dataclass(frozen=True)
class ConsentState:
    """A state to scan: its name and the optional categories accepted (None: no choice made at all)."""

    name: str
    accepted: frozenset[str] | None


@dataclass
class Observation:
    """What one consent state left in the browser."""

    state: str
    pages: list[str] = field(default_factory=list)
    cookies: list[dict] = field(default_factory=list)
    local_storage: set[str] = field(default_factory=set)
    hosts: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)


def states(optional: list[str]) -> list[ConsentState]:
    """No choice, all refused, all accepted, then each optional category alone."""
    return [ConsentState("no_choice", None), ConsentState("refused", frozenset()),
            ConsentState("accepted", frozenset(optional)),
            *(ConsentState(f"only_{key}", frozenset({key})) for key in optional)]


def same_site(url: str, hosts: set[str]) -> bool:
    """Whether a link stays on the scanned hosts (http or https)."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and parts.hostname in hosts


def choose(page, preferences_url: str, state: ConsentState) -> None:
    """Make the state's choice on the preferences page, as a visitor does (no choice: do nothing)."""
    if state.accepted is None:
        return
    page.goto(preferences_url, wait_until="load")
    for box in page.locator("input[name=categories]").all():
        if box.is_enabled():
            box.set_checked(box.get_attribute("value") in state.accepted)
    page.locator("button[name=choice][value=save]").click()
    page.wait_for_load_state("load")


def visit(page, url: str, seen: Observation, hosts: set[str], timeout_ms: int) -> list[str]:
    """Open one page; note its localStorage keys; return the internal links it holds."""
    try:
        page.goto(url, wait_until="networkidle", timeout=timeout_ms)
    except PlaywrightError as error:
        seen.errors.append(f"{url}: {str(error).splitlines()[0]}")
        return []
    seen.pages.append(url)
    seen.local_storage.update(page.evaluate(STORAGE_JS))
    return [urldefrag(link).url for link in page.evaluate(LINKS_JS) if same_site(link, hosts)]


def wanted(url: str) -> bool:
    """Pages worth scanning: not the back-office, files or machine endpoints."""
    return not urlsplit(url).path.startswith(SKIPPED_PATHS)


def crawl(context, start: list[str], preferences_url: str, state: ConsentState, pages: int,
          timeout_ms: int) -> Observation:
    """Make the choice, then follow internal links breadth first from the start pages, up to `pages` pages."""
    seen, hosts = Observation(state.name), {urlsplit(url).hostname for url in start}
    page = context.new_page()
    try:
        choose(page, preferences_url, state)
    except PlaywrightError as error:  # a state whose choice could not be made is not scanned as if it had been
        seen.errors.append(f"{preferences_url}: {str(error).splitlines()[0]}")
        return seen
    page.on("request", lambda request: seen.hosts.add(urlsplit(request.url).hostname or ""))
    queue, queued = deque(start), set(start)
    while queue and len(seen.pages) < pages:
        for link in visit(page, queue.popleft(), seen, hosts, timeout_ms):
            if link not in queued and wanted(link):
                queued.add(link)
                queue.append(link)
    seen.hosts -= hosts | {""}
    seen.cookies = [{**cookie, "expires_in": cookie["expires"] - time.time() if cookie["expires"] > 0 else None}
                    for cookie in context.cookies()]
    page.close()
    return seen


def observe(start: list[str], preferences_url: str, optional: list[str], pages: int, chromium: str,
            timeout_ms: int = 15_000) -> list[Observation]:
    """Every consent state, in a thread of its own: Playwright's sync API refuses a thread that already runs an
    event loop (a scheduler's, a test's browser)."""
    with ThreadPoolExecutor(max_workers=1) as worker:
        return worker.submit(observe_here, start, preferences_url, optional, pages, chromium, timeout_ms).result()


def observe_here(start: list[str], preferences_url: str, optional: list[str], pages: int, chromium: str,
                 timeout_ms: int) -> list[Observation]:
    """Every consent state, each in a fresh browser context (no cookie carried from one to the next)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            found = []
            for state in states(optional):
                context = browser.new_context(locale="fr-FR")
                found.append(crawl(context, start, preferences_url, state, pages, timeout_ms))
                context.close()
            return found
        finally:
            browser.close()
