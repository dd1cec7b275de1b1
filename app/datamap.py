"""The data map: how each feature finds, exports and erases one person's data.

Every model that holds personal data is covered by exactly one entry; a test fails otherwise.
Rights requests (access, portability, erasure) walk these entries and nothing else.
"""

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Person:
    """Whom a request is about: a normalised e-mail address and/or an E.164 phone number."""

    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class DataKind:
    """One kind of personal data and how to handle it for one person."""

    name: str
    models: tuple[type, ...]
    purpose: str
    legal_basis: str
    retention: str
    recipients: str
    export: Callable[[Person], list[dict]]
    erase: Callable[[Person], int]
    fields: tuple[str, ...] = field(default_factory=tuple)


DATA_MAP: dict[str, DataKind] = {}


def register(kind: DataKind) -> DataKind:
    """Add a kind of data to the map (each feature calls this once per kind, at import)."""
    DATA_MAP[kind.name] = kind
    return kind


def covered_models() -> set[type]:
    """Every model some entry covers."""
    return {model for kind in DATA_MAP.values() for model in kind.models}


def export_person(person: Person) -> dict[str, list[dict]]:
    """Every row held about the person, by kind of data."""
    return {name: kind.export(person) for name, kind in sorted(DATA_MAP.items())}


def erase_person(person: Person) -> dict[str, int]:
    """Erase or anonymise the person in every kind; return the count per kind (the caller commits)."""
    return {name: kind.erase(person) for name, kind in sorted(DATA_MAP.items())}


def normalise_email(address: str) -> str:
    """The canonical form of an e-mail address: trimmed, lower-case."""
    return address.strip().lower()


def normalise_phone(number: str, region: str = "FR") -> str | None:
    """The E.164 form of a phone number (French numbers by default), or None when invalid."""
    import phonenumbers

    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def keyed_hash(value: str) -> str:
    """HMAC-SHA256 of a normalised identifier, keyed with the server's HASH_KEY (never a bare hash)."""
    import hashlib
    import hmac

    from flask import current_app

    key = current_app.config["HASH_KEY"].encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


EXEMPT: dict[type, str] = {}


def exempt(model: type, reason: str) -> None:
    """Declare a model with personal fields that is not about the public (such as staff accounts), and why."""
    EXEMPT[model] = reason
