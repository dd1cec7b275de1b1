"""The documentation: a README that stays a page, a site whose navigation holds every page, a settings reference
and a .env.example that list every setting the code reads."""

import importlib.util
from pathlib import Path

import yaml
from dotenv import dotenv_values
from honcho.environ import parse as honcho_parse

from app.config import INSTANCE_DIR

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def settings_hook():
    """The MkDocs hook that builds the settings reference (docs/hooks/settings.py)."""
    spec = importlib.util.spec_from_file_location("settings_hook", DOCS / "hooks" / "settings.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def nav_pages(entries) -> set[str]:
    """Every page file mkdocs.yml's navigation names."""
    found = set()
    for entry in entries:
        for value in entry.values() if isinstance(entry, dict) else [entry]:
            found |= nav_pages(value) if isinstance(value, list) else {value}
    return found


def test_env_example_describes_every_setting_the_code_reads_and_no_other():
    hook = settings_hook()
    in_code, described = set(hook.settings_in_code()), set(hook.described())
    assert in_code - described == set(), "read by the code, missing from .env.example"
    assert described - in_code == set(), "in .env.example, read by no code"
    assert all(setting.section and setting.meaning for setting in hook.described().values())


def test_the_settings_reference_lists_every_setting_with_its_default():
    hook = settings_hook()
    page = hook.on_page_markdown((DOCS / "reference" / "settings.md").read_text(), page=None)
    assert hook.MARKER not in page and "not yet described" not in page
    for name in hook.settings_in_code():
        assert f"| `{name}` |" in page, name
    assert "| `MAIL_PORT` | `25` |" in page and "| `BACKUP_DIR` | `instance/backups` |" in page
    assert "| `SITE_URL` | `http://127.0.0.1:5000` |" in page
    assert str(ROOT) not in page and str(INSTANCE_DIR) not in page  # no path of the machine that built it


def test_env_example_reads_the_same_in_python_dotenv_and_honcho():
    text = (ROOT / ".env.example").read_text()
    assert {name: value for name, value in dotenv_values(ROOT / ".env.example").items() if value} == honcho_parse(text)
    assert dotenv_values(ROOT / ".env.example")["MAIL_DEFAULT_SENDER"] == "K-Inventory <no-reply@k-inventory.com>"


def test_the_readme_is_a_page_that_keeps_the_quick_start_and_the_test_command():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) < 200
    assert "## Quick start" in readme and "## Tests" in readme and "make test" in readme and "make run" in readme


def test_the_navigation_holds_every_page_and_names_none_missing():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    pages = {str(path.relative_to(DOCS)) for path in DOCS.rglob("*.md") if "hooks" not in path.parts}
    assert nav_pages(config["nav"]) == pages


def test_make_bench_writes_the_outcome_of_its_run_into_the_benchmarks_page(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "bench" / "run.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    page = tmp_path / "benchmarks.md"
    page.write_text((DOCS / "benchmarks.md").read_text())
    monkeypatch.setattr(bench, "PAGE", page)
    bench.record([("pages.py", True, 61.2), ("sms_send.py", False, 3.4)])
    text = page.read_text()
    assert "| `bench/pages.py` | goal met | 61 s |" in text and "| `bench/sms_send.py` | **missed" in text
    assert "has not been run" not in text and text.count("<!-- last-run -->") == 1 and "## Public pages" in text


def test_the_scheduler_page_lists_every_job_from_the_registry():
    from app.jobs.registry import JOBS

    spec = importlib.util.spec_from_file_location("jobs_hook", DOCS / "hooks" / "jobs.py")
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    page = hook.on_page_markdown((DOCS / "operations" / "scheduler.md").read_text(), page=None)
    assert hook.MARKER not in page
    for job in JOBS:
        assert f"| `{job.name}` | {job.when} |" in page
