"""The data map: how each feature finds, exports and erases one person's data.

Every model that holds personal data is covered by exactly one entry; a test fails otherwise.
Rights requests (access, portability, erasure) walk these entries and nothing else.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from blinker import signal
from flask import Flask, current_app
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.personal import normalise_email
from app.processors import CAPTCHA, PROCESSORS, undeclared_transfers


@dataclass(frozen=True)
class Person:
    """Whom a request is about: a normalised e-mail address and/or an E.164 phone number."""

    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class DataKind:
    """One kind of personal data and how to handle it for one person; with the CNIL register's columns, in French."""

    name: str
    models: tuple[type, ...]
    purpose: str
    legal_basis: str
    retention: str
    recipients: str
    title: str  # the processing activity, as the record of processing names it
    people: str  # categories of people concerned
    data_categories: str  # categories of personal data
    processors: tuple[str, ...]  # keys of app.processors.PROCESSORS acting on our behalf
    transfers: tuple[str, ...]  # the processors among them whose transfer outside the EEA the kind declares
    security: str  # technical and organisational security measures
    export: Callable[[Person], list[dict]]
    erase: Callable[[Person], int]
    fields: tuple[str, ...] = field(default_factory=tuple)
    connected_systems: bool = False  # the connected systems (`flask connectors list`) receive it with each request

    def problems(self) -> list[str]:
        """What the kind contradicts: a processor outside the EEA without its transfer, an unknown processor."""
        unknown = [key for key in self.processors + self.transfers if key != CAPTCHA and key not in PROCESSORS]
        if unknown:
            return [f"{self.name}: unknown processor {key!r}" for key in unknown]
        return [f"{self.name}: {problem}" for problem in undeclared_transfers(self.processors, self.transfers)]


# What every processing of the site shares, in the words of the policy (sections 5 and 6).
SITE_SECURITY = _l("Accès réservé au personnel habilité (comptes nominatifs, rôles, mots de passe hachés, sessions "
                   "limitées), connexions chiffrées (HTTPS, TLS vérifié vers le relais de messagerie), liens signés à "
                   "durée limitée, journal des actions, copies de sauvegarde.")
NO_TRANSFER = _l("Aucun transfert hors de l’Union européenne n’est organisé par le site.")
POLICY_SAFEGUARDS = _l("Si un prestataire traite ces données hors de l’Union européenne : clauses contractuelles "
                       "types de la Commission européenne ou règles d’entreprise contraignantes (section 5 de la "
                       "politique).")
HOSTING = ("host",)  # the processors of a kind only the site itself handles
REGISTER_FIELDS = ("title", "purpose", "legal_basis", "people", "data_categories", "recipients", "retention",
                   "security")  # the rest of the record comes from the processors' list

DATA_MAP, EXEMPT = "kinv.data_map", "kinv.data_map_exempt"  # in app.extensions, filled by create_app

# Sent with the person after every erasure (the backups' erasure journal listens, wired in create_app).
person_erased = signal("person-erased")


def register(app: Flask, *kinds: DataKind) -> None:
    """Add kinds of data to the app's map (create_app registers each feature's kinds)."""
    known = app.extensions.setdefault(DATA_MAP, {})
    for kind in kinds:
        known[kind.name] = kind


def data_map() -> dict[str, DataKind]:
    """The current app's kinds of personal data, by name."""
    return current_app.extensions.get(DATA_MAP, {})


def covered_models() -> set[type]:
    """Every model some entry covers."""
    return {model for kind in data_map().values() for model in kind.models}


def export_person(person: Person) -> dict[str, list[dict]]:
    """Every row held about the person, by kind of data."""
    return {name: kind.export(person) for name, kind in sorted(data_map().items())}


def erase_person(person: Person) -> dict[str, int]:
    """Erase or anonymise the person in every kind; return the count per kind (the caller commits)."""
    erased = {name: kind.erase(person) for name, kind in sorted(data_map().items())}
    person_erased.send(None, person=person)
    return erased


def rows_of(model, person: Person) -> list:
    """The rows of a model with an `email` column that hold the person's address, oldest first."""
    if not person.email:
        return []
    return list(db.session.scalars(sa.select(model).where(
        model.email == normalise_email(person.email)).order_by(model.id)))


def delete_rows(rows: list) -> int:
    """Delete rows one by one (the caller commits); how many."""
    for row in rows:
        db.session.delete(row)
    return len(rows)


def map_problems() -> list[str]:
    """Every contradiction of the current app's data map (an empty list when it holds together)."""
    return [problem for _name, kind in sorted(data_map().items()) for problem in kind.problems()]


def exempt(app: Flask, model: type, reason: str) -> None:
    """Declare a model with personal fields that is not about the public (such as staff accounts), and why."""
    app.extensions.setdefault(EXEMPT, {})[model] = reason


def exemptions() -> dict[type, str]:
    """The current app's models with personal fields that the map leaves out on purpose, and why."""
    return current_app.extensions.get(EXEMPT, {})
