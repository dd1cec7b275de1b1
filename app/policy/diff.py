"""What changed between two versions of the policy, paragraph by paragraph (difflib), under each section's heading."""

import difflib
from dataclasses import dataclass, field

from app.policy.text import HEADING


@dataclass
class Hunk:
    """One place that changed: the section it is in, the paragraphs taken out and those put in."""

    section: str
    removed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)


def paragraphs(text: str | None) -> list[str]:
    """The text's paragraphs, list items and headings, one per non-blank line (the policy's plain-text form)."""
    return [line.strip() for line in (text or "").strip().splitlines() if line.strip()]


def section_before(lines: list[str], index: int) -> str:
    """The heading of the section the line at `index` belongs to (the title before the first heading)."""
    return next((line for line in reversed(lines[:index + 1]) if HEADING.match(line)), lines[0] if index >= 0 else "")


def paragraph_diff(old: str | None, new: str) -> list[Hunk]:
    """The paragraphs deleted and added from the old text to the new one, in the new text's order."""
    before, after = paragraphs(old), paragraphs(new)
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    return [Hunk(section_before(after, j1 - 1), before[i1:i2], after[j1:j2])
            for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]
