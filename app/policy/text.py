"""Read the policy's plain-text form into a title, numbered sections, paragraphs and lists."""

import re
from dataclasses import dataclass, field

from flask import render_template
from markupsafe import Markup

SECTION_IDS = {
    1: "introduction", 2: "collecte", 3: "donnees", 4: "finalites", 5: "partage",
    6: "securite", 7: "cookies", 8: "conservation", 9: "droits",
}
HEADING = re.compile(r"^(\d+)-\s+(.+)$")


@dataclass
class Block:
    """A paragraph (`items` empty) or a list (`text` empty)."""

    text: str = ""
    items: list[str] = field(default_factory=list)


@dataclass
class Section:
    """A numbered section with a stable anchor."""

    number: int
    title: str
    anchor: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class PolicyDocument:
    """The whole text, parsed."""

    title: str
    sections: list[Section]


def parse_policy(text: str) -> PolicyDocument:
    """Split the text: first line is the title, `N- Title` opens a section, `- ` lines form lists."""
    lines = [line.strip() for line in text.strip().splitlines()]
    document = PolicyDocument(title=lines[0], sections=[])
    for line in lines[1:]:
        if not line:
            continue
        heading = HEADING.match(line)
        if heading:
            number = int(heading.group(1))
            anchor = SECTION_IDS.get(number, f"section-{number}")
            document.sections.append(Section(number, heading.group(2), anchor))
        elif document.sections:
            add_line(document.sections[-1], line)
    return document


def add_line(section: Section, line: str) -> None:
    """Append a paragraph, or an item to the list being built."""
    if line.startswith("- "):
        if not section.blocks or not section.blocks[-1].items:
            section.blocks.append(Block())
        section.blocks[-1].items.append(line[2:])
    else:
        section.blocks.append(Block(text=line))


def typeset_sections(document: PolicyDocument) -> list[Markup]:
    """Each section's paragraphs and lists as HTML, as the policy page shows them."""
    return [Markup(render_template("policy/_body.html", section=section)) for section in document.sections]
