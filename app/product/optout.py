"""The opt-out check the product, a CRM or a call-centre tool asks before calling or posting: one answer per contact,
never the list itself."""

import sqlalchemy as sa
from flask import current_app

from app.connectors.models import ConnectedSystem
from app.connectors.services import AnswerRefused, systems, verified_answer
from app.extensions import db
from app.suppression.models import Channel, Suppression
from app.suppression.services import SuppressionError, identifier_hash, suppress

MAX_CONTACTS = 1000
CHECK_MAX_BYTES = 1024 * 1024  # MAX_CONTACTS postal addresses of up to ~1 KB each, with their JSON
ASKS = {"phone": (Channel.CALL, "may_call"), "address": (Channel.POST, "may_post")}


class CheckRefused(AnswerRefused):
    """A check we do not answer: `status` is the HTTP status, the message says why."""


def signing_systems() -> list[ConnectedSystem]:
    """Who may ask: the product (PRODUCT_WEBHOOK_SECRET) and every declared connected system, each with its secret."""
    secret = current_app.config.get("PRODUCT_WEBHOOK_SECRET")
    return ([ConnectedSystem(name="product", secret=secret)] if secret else []) + systems()


def verified_question(body: bytes, headers: dict[str, str]) -> dict:
    """The question's JSON once one known secret's signature is found on it (CheckRefused 401 otherwise)."""
    for system in signing_systems():
        try:
            return verified_answer(system, body, headers)
        except AnswerRefused as refused:
            if refused.status != 401:
                raise CheckRefused(refused.status, "the question must be a JSON object") from refused
    raise CheckRefused(401, "bad or stale signature")


def contacts_in(question: dict) -> list:
    """One contact (`{"phone": …}` or `{"address": …}`) or a batch under `contacts`, at most 1,000."""
    contacts = question.get("contacts", [question])
    if not isinstance(contacts, list) or not contacts:
        raise CheckRefused(400, "contacts must be a non-empty list")
    if len(contacts) > MAX_CONTACTS:
        raise CheckRefused(413, f"at most {MAX_CONTACTS} contacts a question")
    return contacts


def keyed(contact) -> tuple[str, str, str] | str:
    """(channel, answer key, keyed hash) for one contact, or the reason it cannot be answered."""
    if not isinstance(contact, dict) or len(set(contact) & set(ASKS)) != 1:
        return "give exactly one of phone, address"
    field = next(key for key in ASKS if key in contact)
    channel, answer = ASKS[field]
    try:
        return channel, answer, identifier_hash(channel, **{field: str(contact[field])})
    except SuppressionError as error:
        return str(error)


def check(body: bytes, headers: dict[str, str]) -> list[dict]:
    """For each contact, in order: whether it may be called or posted to, or why it could not be read."""
    keys = [keyed(contact) for contact in contacts_in(verified_question(body, headers))]
    listed = on_the_list([(key[0], key[2]) for key in keys if isinstance(key, tuple)])
    return [{"error": key} if isinstance(key, str) else {key[1]: (key[0], key[2]) not in listed} for key in keys]


def on_the_list(pairs: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which (channel, keyed hash) pairs have an entry, for any reason: one query for the whole batch."""
    if not pairs:
        return set()
    columns = (Suppression.channel, Suppression.identifier_hash)
    return {tuple(row) for row in db.session.execute(sa.select(*columns).where(sa.tuple_(*columns).in_(pairs)))}


def record_contact_opt_out(channel: str, identifier: str, source: str) -> None:
    """Put a number (call) or a postal address (post) on the opt-out list; commits."""
    suppress(channel, **{"phone" if channel == Channel.CALL else "address": identifier}, source=source)
    db.session.commit()
