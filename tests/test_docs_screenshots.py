"""The documentation's screenshots, taken by Chromium from the live site: what a visitor and a dpo see.

Each run checks every page can be pictured (a real PNG of the viewport's size). `make screenshots` runs this file
with DOCS_SCREENSHOTS=docs/images, which writes the pictures the dpo's pages show; otherwise they go to a temporary
folder and the repository is left alone.
"""

import struct
from pathlib import Path

import pytest

from tests.support.rights import confirmed_request, log_in_browser, staff_action, staff_client
from tests.support.screenshots import pictures_folder

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 640}
DESK = {"width": 1280, "height": 800}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    """A PNG file's width and height, read from its header (and checked to be one)."""
    head = path.read_bytes()[:24]
    assert head[:8] == PNG_SIGNATURE, f"{path.name} is not a PNG"
    return struct.unpack(">II", head[16:24])


def take(page, folder: Path, name: str, viewport: dict) -> None:
    """A picture of the viewport, as the person sees it."""
    page.wait_for_load_state("networkidle")
    path = folder / f"{name}.png"
    page.screenshot(path=str(path))
    assert png_size(path) == (viewport["width"], viewport["height"]), name


def test_the_visitors_pages_as_the_docs_show_them(live_server, browser):
    folder = pictures_folder()
    phone = browser.new_context(viewport=PHONE, locale="fr-FR").new_page()
    phone.goto(live_server.url + "/confidentialite")
    take(phone, folder, "banner-phone", PHONE)  # the banner, before any choice
    phone.get_by_role("button", name="Personnaliser").click()
    take(phone, folder, "cookie-preferences-phone", PHONE)
    phone.context.close()
    desk = browser.new_context(viewport=DESK, locale="fr-FR").new_page()
    desk.goto(live_server.url + "/contact")
    desk.get_by_role("button", name="Continuer sans accepter").click()
    take(desk, folder, "contact-form", DESK)
    desk.context.close()


def test_the_dpos_back_office_as_the_docs_show_it(live_server, browser, mailbox):
    folder = pictures_folder()
    app = live_server.server.app
    with app.app_context():
        client = app.test_client()
        access = confirmed_request(client, mailbox, "jeanne@example.fr").reference
        confirmed_request(client, mailbox, "paul@example.fr", kind="erasure")
        dpo = staff_client(app, "dpo", "dpo@k-inventory.com")
        staff_action(dpo, access, "prolonger", months="1", reason="Demande complexe")
    page = browser.new_context(viewport=DESK, locale="fr-FR").new_page()
    log_in_browser(page, live_server, "dpo@k-inventory.com")
    page.get_by_role("button", name="Continuer sans accepter").click()  # the banner shows on staff pages too
    for name, path in (("backoffice-queue", "/admin/"), ("backoffice-request", f"/admin/demandes/{access}"),
                       ("dashboard", "/admin/tableau-de-bord"), ("register", "/admin/registre")):
        page.goto(live_server.url + path)
        take(page, folder, name, DESK)
    page.context.close()
