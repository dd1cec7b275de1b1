"""The scheduler's table of jobs (docs/operations/scheduler.md), built at each `mkdocs build` from the registry."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MARKER = "<!-- jobs-table -->"


def markdown() -> str:
    """One row per job `flask jobs run` runs: its name, when, and what it does (the function's docstring)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from app.jobs.registry import JOBS

    rows = [f"| `{job.name}` | {job.when} | {' '.join((job.run.__doc__ or '').split())} |" for job in JOBS]
    return "\n".join(["| job | when | what |", "|---|---|---|", *rows]) + "\n"


def on_page_markdown(text: str, page, **_kwargs) -> str:
    """MkDocs hook: the scheduler's page gets the table where its marker stands."""
    return text.replace(MARKER, markdown()) if MARKER in text else text
