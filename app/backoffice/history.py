"""A request's history in words: each event's details (stored as JSON) as the staff member reads them."""

from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from app.datamap import data_map
from app.rights.labels import KIND_LABELS
from app.rights.models import RequestEvent
from app.templating import page_date

FIELD_LABELS = {"name": _l("Nom"), "email": _l("Adresse e-mail"), "phone": _l("Téléphone")}
CHANNEL_LABELS = {"email": _l("e-mail"), "sms": _l("SMS")}


def detail_lines(event: RequestEvent) -> list[str]:
    """One sentence per detail of the event, in the order it was recorded; an unknown key is shown as it is."""
    lines = []
    for key, value in (event.detail or {}).items():
        describe = DESCRIBERS.get(key)
        lines.extend(describe(value) if describe else [f"{key}\u00a0: {value}"])
    return lines


def kind_line(kind: str) -> list[str]:
    """The type of request."""
    return [_("Type\u00a0: %(kind)s", kind=KIND_LABELS.get(kind, kind))]


def text_line(text: str) -> list[str]:
    """A note's text, as typed."""
    return [text]


def size_line(size: int) -> list[str]:
    """The size of the data package."""
    return [ngettext("Taille du dossier\u00a0: %(num)d octet", "Taille du dossier\u00a0: %(num)d octets", size)]


def kind_title(name: str) -> str:
    """A kind of data by the title the record of processing gives it."""
    kind = data_map().get(name)
    return str(kind.title) if kind else name


def count_lines(counts: dict[str, int]) -> list[str]:
    """What an erasure removed, kind by kind."""
    removed = [ngettext("%(title)s\u00a0: %(num)d enregistrement", "%(title)s\u00a0: %(num)d enregistrements", count,
                        title=kind_title(name)) for name, count in counts.items() if count]
    return removed or [_("Aucune donnée trouvée.")]


def change_lines(changes: list[dict]) -> list[str]:
    """Each rectified field, before and after, and where it changed."""
    return [_("%(field)s\u00a0: «\u00a0%(before)s\u00a0» devient «\u00a0%(after)s\u00a0» (%(where)s)",
              field=FIELD_LABELS.get(change["field"], change["field"]), before=change["before"] or "—",
              after=change["after"], where=", ".join(kind_title(name) for name in change.get("where", [])))
            for change in changes]


def channel_line(channels: list[str]) -> list[str]:
    """The channels a person was taken off."""
    return [_("Canaux\u00a0: %(channels)s", channels=", ".join(str(CHANNEL_LABELS.get(c, c)) for c in channels))]


def months_line(months: int) -> list[str]:
    """The length of an extension."""
    return [ngettext("Prolongé de %(num)d mois", "Prolongé de %(num)d mois", months)]


def until_line(until: str) -> list[str]:
    """The new deadline."""
    return [_("Nouvelle échéance\u00a0: %(date)s", date=page_date(date.fromisoformat(until), "long"))]


def reason_line(reason: str) -> list[str]:
    """The reason given."""
    return [_("Motif\u00a0: %(reason)s", reason=reason)]


def systems_line(systems: list[str]) -> list[str]:
    """The connected systems that had not answered."""
    return [_("Systèmes sans réponse\u00a0: %(names)s", names=", ".join(systems) or "—")]


DESCRIBERS = {"kind": kind_line, "text": text_line, "size": size_line, "counts": count_lines,
              "changes": change_lines, "channels": channel_line, "months": months_line, "until": until_line,
              "reason": reason_line, "systems": systems_line}
