"""`flask translate extract|update|compile`: the one `messages` catalogue, French the source, English translated."""

import subprocess
import sys
from pathlib import Path

import click
from flask.cli import AppGroup

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = "translations/messages.pot"
# Keywords beyond pybabel's defaults: lazy_gettext, lazy_pgettext and the N_ marker of messages translated later.
KEYWORDS = ("-k", "_l", "-k", "_lp:1c,2", "-k", "N_")


def pybabel(*args: str) -> None:
    """Run a pybabel command from the project root, failing loudly."""
    subprocess.run([str(Path(sys.executable).parent / "pybabel"), "-q", *args], cwd=ROOT, check=True)


translate = AppGroup("translate", help="Extract, update and compile the translation catalogue.")


@translate.command("extract")
@click.option("--output", "-o", default=CATALOGUE, show_default=True, help="Where to write the template.")
def extract(output: str = CATALOGUE) -> None:
    """Extract every string of app/ (Python and templates) into the catalogue template."""
    # Hidden folders only: pybabel's default also skips `_`-prefixed ones, the templates' _macros/ and _partials/.
    pybabel("extract", "-F", "babel.cfg", *KEYWORDS, "--ignore-dirs", ".*", "--no-location", "--sort-output",
            "-w", "120", "-o", output, "app")


@translate.command("update")
def update() -> None:
    """Extract, then merge new strings into the English catalogue (French is the source)."""
    extract.callback()
    action = "update" if (ROOT / "translations/en/LC_MESSAGES/messages.po").exists() else "init"
    pybabel(action, "-i", CATALOGUE, "-d", "translations", "-l", "en", "-w", "120")


@translate.command("compile")
def compile_catalogue() -> None:
    """Compile the .po file into the .mo file the app reads."""
    pybabel("compile", "-d", "translations", "--statistics")
