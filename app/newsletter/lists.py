"""The mailing lists a visitor can follow (slugs are stable: they appear in tokens and List-Id)."""

import unicodedata

from flask_babel import lazy_gettext as _l

LISTS = {
    "actualites-produit": _l("Actualités produit"),
    "evenements": _l("Événements"),
}
# The French names, for headers and logs that must not depend on the reader's language.
LIST_NAMES_FR = {"actualites-produit": "Actualités produit", "evenements": "Événements"}
ALL_LISTS = "*"


def is_list(slug: str | None) -> bool:
    """Whether the slug names one of our lists."""
    return slug in LISTS


def list_name(slug: str) -> str:
    """The list's name in the current language (the slug for an unknown list)."""
    return str(LISTS.get(slug, slug))


def ascii_name(slug: str) -> str:
    """The French name without accents, for the List-Id header."""
    name = LIST_NAMES_FR.get(slug, slug)
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
