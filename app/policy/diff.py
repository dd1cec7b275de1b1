"""What changed between two versions of the policy, paragraph by paragraph (difflib), under each section's heading;
a paragraph reworded rather than replaced shows its words deleted and added in place."""

import difflib
import re
from dataclasses import dataclass, field

from app.policy.text import HEADING

REWORDED = 0.5  # how alike two paragraphs must be (difflib's ratio) to be shown as one paragraph reworded


@dataclass(frozen=True)
class Piece:
    """A run of words of a reworded paragraph: kept, deleted or added."""

    kind: str  # "same", "removed", "added"
    text: str


@dataclass
class Hunk:
    """One place that changed: its section, the paragraphs taken out, those put in, and those reworded."""

    section: str
    removed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    reworded: list[list[Piece]] = field(default_factory=list)


def paragraphs(text: str | None) -> list[str]:
    """The text's paragraphs, list items and headings, one per non-blank line (the policy's plain-text form)."""
    return [line.strip() for line in (text or "").strip().splitlines() if line.strip()]


def section_before(lines: list[str], index: int) -> str:
    """The heading of the section the line at `index` belongs to (the title before the first heading)."""
    return next((line for line in reversed(lines[:index + 1]) if HEADING.match(line)), lines[0] if index >= 0 else "")


def word_diff(old: str, new: str) -> list[Piece]:
    """The words of one paragraph deleted, added and kept, in reading order."""
    before, after = re.split(r"(\s+)", old), re.split(r"(\s+)", new)
    pieces = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, before, after, autojunk=False).get_opcodes():
        if tag == "equal":
            pieces.append(Piece("same", "".join(before[i1:i2])))
            continue
        if i2 > i1:
            pieces.append(Piece("removed", "".join(before[i1:i2])))
        if j2 > j1:
            pieces.append(Piece("added", "".join(after[j1:j2])))
    return pieces


def hunk(section: str, removed: list[str], added: list[str]) -> Hunk:
    """One change; paragraphs replaced one for one by a close rewording are shown word by word."""
    pairs = list(zip(removed, added, strict=False))
    if len(removed) == len(added) and all(difflib.SequenceMatcher(None, a, b).ratio() >= REWORDED for a, b in pairs):
        return Hunk(section, reworded=[word_diff(a, b) for a, b in pairs])
    return Hunk(section, removed, added)


def paragraph_diff(old: str | None, new: str) -> list[Hunk]:
    """The paragraphs deleted, added and reworded from the old text to the new one, in the new text's order."""
    before, after = paragraphs(old), paragraphs(new)
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    return [hunk(section_before(after, j1 - 1), before[i1:i2], after[j1:j2])
            for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]
