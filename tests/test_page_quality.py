"""Every public page is valid HTML (Nu Html Checker) and has no axe-core violation in Chromium."""

import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VNU_JAR = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
EXTRA_PAGES = ["/page-inconnue", "/en/unknown-page", "/confidentialite/versions/1", "/en/privacy/versions/1"]


def public_pages(app) -> list[str]:
    """Every GET page without URL arguments (both languages), plus error and version pages."""
    pages = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static" or rule.arguments - set(rule.defaults or {}):
            continue
        if rule.endpoint.startswith(("admin.", "webhooks.")) or "webhook" in rule.rule:
            continue
        pages.append(rule.rule)
    return sorted(set(pages)) + EXTRA_PAGES


def test_every_page_validates_in_the_nu_html_checker(app, client, policy, tmp_path):
    assert VNU_JAR.exists(), "vnu.jar is missing: run `make dev-setup` (npm ci)"
    files = []
    for index, url in enumerate(public_pages(app)):
        response = client.get(url)
        assert response.status_code in (200, 404), url
        path = tmp_path / f"page{index}.html"
        path.write_bytes(response.data)
        files.append((url, path))
    result = subprocess.run(
        ["java", "-jar", str(VNU_JAR), "--errors-only", "--format", "json", *[str(p) for _, p in files]],
        capture_output=True, text=True, check=False,
    )
    messages = json.loads(result.stderr or "{}").get("messages", [])
    by_file = {str(p): url for url, p in files}
    errors = [f"{by_file.get(m.get('url', '').removeprefix('file:'), m.get('url'))}: {m['message']}"
              for m in messages if m.get("type") == "error"]
    assert errors == []


@pytest.mark.browser
def test_axe_finds_no_violation_on_any_page(app, live_server, browser):
    assert AXE.exists(), "axe-core is missing: run `make dev-setup` (npm ci)"
    context = browser.new_context(bypass_csp=True, locale="fr-FR")
    page = context.new_page()
    violations = {}
    for url in public_pages(app):
        page.goto(live_server.url + url)
        page.add_script_tag(path=str(AXE))
        found = page.evaluate("async () => (await axe.run()).violations.map(v => v.id + ': ' + v.help)")
        if found:
            violations[url] = found
    context.close()
    assert violations == {}
