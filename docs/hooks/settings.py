"""The settings reference, built at each `mkdocs build` from the code that reads the settings and from .env.example.

Names and defaults come from the code (`app/config.py` run with a recording environment, and every `os.environ`
read of `app/` and `gunicorn.conf.py`); what each setting means comes from .env.example's comment above it, grouped
under its `# == Section` lines. A setting the code reads that .env.example does not describe is listed apart, and
`tests/test_docs.py` fails on it.
"""

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[2]
ENV_EXAMPLE = ROOT / ".env.example"
SOURCES = ("app/**/*.py", "gunicorn.conf.py", "wsgi.py")
READ = re.compile(r"""(?:os\.environ\.(?:get|setdefault)\(|os\.environ\[|\benv(?:_bool)?\()\s*"([A-Z][A-Z0-9_]*)"\s*"""
                  r"""(?:,\s*"([^"]*)")?""")
SETTING_LINE = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$")
SECTION_LINE = re.compile(r"^#\s*==\s*(.+)$")
MARKER = "<!-- settings-reference -->"


@dataclass
class Setting:
    """One environment variable: its section and meaning in .env.example, its default in the code."""

    name: str
    section: str = ""
    meaning: str = ""
    example: str = ""
    default: str | None = None


class RecordingEnviron(dict):
    """An environment that remembers every name read and the default the reader gave."""

    def __init__(self) -> None:
        super().__init__(APP_ENV="production")  # production: nothing generated into instance/
        self.read: dict[str, str | None] = {}

    def get(self, name, default=None):
        """Record the read; answer as if unset (APP_ENV aside)."""
        self.read.setdefault(name, default)
        return super().get(name, default)


def readable(value, instance_dir: Path) -> str | None:
    """A default as a reader should see it: yes/no as 1/0, paths under instance/ and the working copy relative."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    text = str(value).replace(str(instance_dir), "instance")
    return text.replace(str(ROOT) + os.sep, "") if text.strip() else ""


def read_by_config() -> dict[str, str | None]:
    """The variables `Config()` reads, with their defaults as computed."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from app import config

    recorder = RecordingEnviron()
    with mock.patch.object(os, "environ", recorder):
        built = config.Config()
    found = {}
    for name, default in recorder.read.items():
        value = default if default is not None or name == "APP_ENV" else getattr(built, name, None)
        found[name] = readable(value, config.INSTANCE_DIR)
    return found


def read_in_sources() -> dict[str, str | None]:
    """Every variable read by name anywhere in the app, gunicorn's settings or the WSGI entry point."""
    found: dict[str, str | None] = {}
    for pattern in SOURCES:
        for path in sorted(ROOT.glob(pattern)):
            for name, default in READ.findall(path.read_text()):
                if default or name not in found:
                    found[name] = default or None
    return found


def settings_in_code() -> dict[str, str | None]:
    """Every setting the code reads, with its default (None when the code gives none)."""
    found = read_in_sources()
    for name, default in read_by_config().items():
        if default is not None or name not in found:
            found[name] = default
    return found


def described() -> dict[str, Setting]:
    """The settings .env.example describes, in its order, with their section and meaning."""
    settings, section, comment = {}, "", []
    for line in ENV_EXAMPLE.read_text().splitlines():
        if match := SECTION_LINE.match(line):
            section, comment = match.group(1).strip(), []
        elif match := SETTING_LINE.match(line):
            name, example = match.groups()
            settings[name] = Setting(name, section, " ".join(comment), example.strip().strip('"'))
            comment = []
        elif line.startswith("#"):
            comment.append(line.lstrip("#").strip())
        else:
            comment = []
    return settings


def reference() -> tuple[list[Setting], list[str]]:
    """The settings to document, each with its default from the code; and the names the code reads undescribed."""
    code = settings_in_code()
    settings = described()
    for name, setting in settings.items():
        setting.default = code.get(name)
    return list(settings.values()), sorted(set(code) - set(settings))


def cell(text: str) -> str:
    """Text fit for a Markdown table cell."""
    return text.replace("|", "\\|")


def default_cell(setting: Setting) -> str:
    """The default as code, or a dash when the code gives none."""
    return f"`{cell(setting.default)}`" if setting.default else "—"


def markdown() -> str:
    """The reference as Markdown: one table per section."""
    settings, undescribed = reference()
    lines, section = [], None
    for setting in settings:
        if setting.section != section:
            section = setting.section
            lines += ["", f"## {section or 'Other settings'}", "", "| variable | default | meaning |", "|---|---|---|"]
        lines.append(f"| `{setting.name}` | {default_cell(setting)} | {cell(setting.meaning)} |")
    if undescribed:
        lines += ["", "## Read by the code, not yet described in .env.example", ""]
        lines += [f"- `{name}`" for name in undescribed]
    return "\n".join(lines).strip() + "\n"


def on_page_markdown(text: str, page, **_kwargs) -> str:
    """MkDocs hook: the settings page gets the reference where its marker stands."""
    return text.replace(MARKER, markdown()) if MARKER in text else text
