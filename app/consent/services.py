"""Consent rules: the visitor's current choice, recording each choice as proof, and the shared helpers
`current_consent_id()` and `link_consent_to_person()` other features call."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app, has_request_context, request

from app.backup import journal
from app.backup.journal import Entry
from app.consent.models import ConsentRecord, ConsentSubject
from app.consent.register import REGISTER, Register
from app.consent.state import ConsentState, PageVariant, page_variant, read_state, request_cache
from app.extensions import db
from app.personal import keyed_hash, normalise_email, truncate_ip
from app.policy.services import current_version_number

ACCEPT_ALL, REFUSE_ALL, CONTINUE, CUSTOM, GPC_SIGNAL = (
    "accept_all", "refuse_all", "continue_without_accepting", "custom", "gpc_signal")
BANNER, PREFERENCES, GPC = "banner", "preferences", "gpc"
JS, NO_JS, HEADER = "js", "no-js", "header"
ACTIONS = (ACCEPT_ALL, REFUSE_ALL, CONTINUE, CUSTOM, GPC_SIGNAL)


class ConsentError(ValueError):
    """A choice that cannot be recorded: unknown action or category."""


WITHDRAW = "withdraw"  # journal entries: a consent withdrawn (`withdraw consent <hash> <the choice as JSON>`)


def current_register() -> Register:
    """The register in force (tests and previews may set CONSENT_REGISTER)."""
    return current_app.config.get("CONSENT_REGISTER") or REGISTER


def current_consent_id() -> str | None:
    """The consent id in the visitor's signed consent cookie, or None (no request, no or invalid cookie)."""
    state = read_state()
    return state.consent_id if state else None


def link_consent_to_person(consent_id: str | None, email: str) -> ConsentSubject | None:
    """Record that a consent id belongs to a person, so their consent proof can be exported (caller commits)."""
    if not consent_id or not email or not email.strip():
        return None
    email_hash = keyed_hash(normalise_email(email))
    existing = db.session.scalar(sa.select(ConsentSubject).where(
        ConsentSubject.consent_id == consent_id, ConsentSubject.email_hash == email_hash))
    if existing:
        return existing
    link = ConsentSubject(consent_id=consent_id, email_hash=email_hash)
    db.session.add(link)
    return link


def current_choice() -> ConsentState | None:
    """The visitor's valid choice: signed, under 6 months old, made by them, for this register version."""
    state = read_state()
    if state is None or not state.complete or state.version != current_register().version:
        return None
    return state


def page_choice() -> PageVariant | None:
    """The choice this page shows, from the variant cookie only (what a shared cache keys on, so a page kept for
    one visitor is right for every visitor with the same cookie): a choice made for this register version."""
    variant = page_variant()
    if variant is None or not variant.complete or variant.version != current_register().version:
        return None
    return variant


def banner_needed() -> bool:
    """The banner shows until the visitor has a valid choice."""
    return page_choice() is None


def effective_choices() -> dict[str, bool]:
    """What this page may use: the choice it shows, else everything optional refused (silence is refusal)."""
    variant = page_choice()
    return {c.key: bool(variant and c.key in variant.accepted) for c in current_register().optional}


def gpc_requested() -> bool:
    """Whether the browser sends Global Privacy Control (`Sec-GPC: 1`)."""
    return has_request_context() and request.environ.get("HTTP_SEC_GPC", "").strip() == "1"


def gpc_active() -> bool:
    """Whether GPC applies: sent now, or recorded in the visitor's cookie."""
    state = read_state()
    return gpc_requested() or bool(state and state.gpc)


def page_gpc() -> bool:
    """Whether the page says GPC applies: sent now, or in the variant the page is made for."""
    variant = page_variant()
    return gpc_requested() or bool(variant and variant.gpc)


def choices_for(action: str, selected: tuple[str, ...] | list[str] = (), gpc: bool = False) -> dict[str, bool]:
    """The choice per optional category for an action; under GPC « accept all » leaves GPC categories refused."""
    register = current_register()
    optional = [category.key for category in register.optional]
    unknown = set(selected) - set(optional)
    if action not in ACTIONS or unknown:
        raise ConsentError(f"unknown action or category: {action}, {sorted(unknown)}")
    if action == ACCEPT_ALL:
        return {c.key: not (gpc and c.refused_under_gpc) for c in register.optional}
    if action == CUSTOM:
        return {key: key in selected for key in optional}
    return dict.fromkeys(optional, False)


def record_choice(action: str, source: str, channel: str, selected: tuple[str, ...] | list[str] = (),
                  gpc: bool = False) -> ConsentState:
    """Append the choice to the proof table and commit; the new state is returned for the view to remember."""
    register = current_register()
    previous = read_state()
    gpc = gpc or gpc_active()
    choices = choices_for(action, selected, gpc=gpc)
    withdrawal = previous is not None and any(previous.accepted(key) and not value for key, value in choices.items())
    consent_id = previous.consent_id if previous else new_consent_id()
    now = datetime.now(UTC)
    record = ConsentRecord(
        consent_id=consent_id, recorded_at=now, choices=choices, register_version=register.version,
        policy_version=current_version_number(), action=action, withdrawal=withdrawal, source=source, channel=channel,
        ip_prefix=truncate_ip(request.remote_addr), browser=browser_family(request.user_agent.string),
    )
    twin = recorded_twin(record, previous)
    if twin is None:
        if withdrawal:
            note_withdrawal(record)
        db.session.commit()
    else:
        now = twin.recorded_at
        db.session.rollback()
    state = ConsentState(consent_id, choices, register.version, now.replace(microsecond=0),
                         complete=action != GPC_SIGNAL, gpc=gpc)
    request_cache()["state"] = request_cache()["made"] = state  # the rest of this request reads the new choice
    return state


def note_withdrawal(record: ConsentRecord) -> None:
    """Journal a withdrawal for the backups: a restore puts it back (only the consent id's keyed hash is written)."""
    detail = {"choices": record.choices, "version": record.register_version, "policy": record.policy_version,
              "action": record.action, "source": record.source, "channel": record.channel}
    journal.note(WITHDRAW, "consent", keyed_hash(record.consent_id), json.dumps(detail, separators=(",", ":")))


def replay_withdrawals(entries: list[Entry]) -> int:
    """After a restore: every withdrawal made since the backup is recorded again, for the consent ids the backup
    holds (a consent given after the backup is gone with it) and whose last choice differs; how many."""
    ids = {keyed_hash(consent_id): consent_id for consent_id in
           db.session.scalars(sa.select(ConsentRecord.consent_id).distinct())}
    added = 0
    for entry in (entry for entry in entries if entry.hashed in ids):
        detail = json.loads(entry.detail)
        latest = db.session.scalar(sa.select(ConsentRecord).where(ConsentRecord.consent_id == ids[entry.hashed])
                                   .order_by(ConsentRecord.recorded_at.desc()).limit(1))
        if latest.choices != detail["choices"]:  # the backup may have been made just after the withdrawal
            db.session.add(ConsentRecord(
                consent_id=ids[entry.hashed], recorded_at=entry.at, choices=detail["choices"],
                register_version=detail["version"], policy_version=detail["policy"], action=detail["action"],
                withdrawal=True, source=detail["source"], channel=detail["channel"]))
            added += 1
    return added


def recorded_twin(record: ConsentRecord, previous: ConsentState | None) -> ConsentRecord | None:
    """The same choice already recorded from the same cookie (the POST sent twice at once), else None.

    The two requests are taken one after the other (PostgreSQL: a lock on the consent id; SQLite: the write lock
    the insert takes), so the second sees the first's record. A record made since the cookie was issued (it keeps
    whole seconds) can only come from a request that carried this same cookie.
    """
    if previous is None:
        db.session.add(record)
        return None
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(record.consent_id))))
    db.session.add(record)
    db.session.flush()
    since_cookie = db.session.scalars(sa.select(ConsentRecord).where(
        ConsentRecord.consent_id == record.consent_id, ConsentRecord.id < record.id,
        ConsentRecord.recorded_at >= previous.decided_at + timedelta(seconds=1)).order_by(ConsentRecord.id))
    return next((found for found in since_cookie if same_choice(found, record)), None)


def same_choice(one: ConsentRecord, other: ConsentRecord) -> bool:
    """Whether two records say the same thing (action, choices, where it was made, register version)."""
    return ((one.action, one.choices, one.source, one.channel, one.register_version)
            == (other.action, other.choices, other.source, other.channel, other.register_version))


def new_consent_id() -> str:
    """A random consent id (no link to the person or the device)."""
    return str(uuid.uuid4())


def browser_family(user_agent: str | None) -> str | None:
    """The browser family only (e.g. « Chrome »), nothing finer."""
    if not user_agent:
        return None

    from user_agents import parse  # its regular expressions take 5 MB: loaded at the first choice, not at start

    return parse(user_agent).browser.family[:60]
