"""Page checks shared by the quality tests: the Nu Html Checker over saved pages, axe-core in Chromium."""

import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
VNU_JAR = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


def vnu_errors(pages: dict[str, bytes], folder: Path) -> list[str]:
    """The Nu Html Checker's errors for each page (by name), in one run of the checker."""
    assert VNU_JAR.exists(), "vnu.jar is missing: run `make dev-setup` (npm ci)"
    files = {}
    for index, (name, html) in enumerate(pages.items()):
        files[name] = folder / f"page{index}.html"
        files[name].write_bytes(html)
    result = subprocess.run(["java", "-jar", str(VNU_JAR), "--errors-only", "--format", "json",
                             *[str(path) for path in files.values()]], capture_output=True, text=True, check=False)
    names = {str(path): name for name, path in files.items()}
    return [f"{names.get(m.get('url', '').removeprefix('file:'), m.get('url'))}: {m['message']}"
            for m in json.loads(result.stderr or "{}").get("messages", []) if m.get("type") == "error"]


def axe_violations(page) -> list[str]:
    """axe-core's findings on the Playwright page as it is now."""
    assert AXE.exists(), "axe-core is missing: run `make dev-setup` (npm ci)"
    page.add_script_tag(path=str(AXE))
    return page.evaluate("async () => (await axe.run()).violations.map(v => v.id + ': ' + v.help)")
