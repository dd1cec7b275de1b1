"""Cells of every CSV the site writes, neutralised so that a spreadsheet never runs them as a formula (OWASP's
CSV-injection guidance: a cell starting with = + - @, a tab or a carriage return gets a leading apostrophe)."""

import re
from collections.abc import Iterable, Mapping

# The OWASP characters, with their full-width (U+FF0B…) and small (U+FE62…) forms, which spreadsheets fold into ASCII.
FORMULA_START = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20\ufe66\ufe62\ufe63\ufe6b")
# A bare signed number (a phone number in E.164, a negative count) cannot call anything: it is left as it is.
PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:[.,][0-9]+)?")


def safe_cell(value) -> str:
    """One cell as text, an apostrophe before anything a spreadsheet would take for a formula."""
    text = "" if value is None else str(value)
    if text[:1] in FORMULA_START and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def safe_row(values: Iterable) -> list[str]:
    """A row's cells, each neutralised."""
    return [safe_cell(value) for value in values]


def safe_mapping(row: Mapping) -> dict:
    """A csv.DictWriter row, each value neutralised."""
    return {key: safe_cell(value) for key, value in row.items()}
