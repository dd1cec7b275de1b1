"""The erasure journal: a keyed hash of each erased address or number, appended once the erasure is committed, kept
next to the backups (outside the database a restore replaces) and replayed after a restore."""

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from app.datamap import Person, erase_person
from app.extensions import db
from app.personal import keyed_hash, normalise_email, normalise_phone

PENDING = "kinv_erased"  # session.info key: hashes waiting for the commit
REPLAYING = "kinv_replaying"
EMAIL_COLUMNS = ("email", "recipient")
PHONE_COLUMNS = ("phone", "pending_phone")


def journal_path() -> Path:
    """Where the journal lives (ERASURE_JOURNAL)."""
    return Path(current_app.config["ERASURE_JOURNAL"])


def person_hashes(person: Person) -> list[tuple[str, str]]:
    """(channel, keyed hash) for the person's address and number."""
    pairs = []
    if person.email:
        pairs.append(("email", keyed_hash(normalise_email(person.email))))
    phone = normalise_phone(person.phone) if person.phone else None
    if phone:
        pairs.append(("phone", keyed_hash(phone)))
    return pairs


def note_erasure(_sender, person: Person, **_extra) -> None:
    """Receiver of `person_erased`: keep the hashes until the erasure is committed."""
    session = db.session()
    if not session.info.get(REPLAYING):
        session.info.setdefault(PENDING, []).extend(person_hashes(person))


def write_pending(session) -> None:
    """After a commit: append the erasures it made to the journal."""
    pending = session.info.pop(PENDING, None)
    if not pending:
        return
    path = journal_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    with path.open("a", encoding="ascii") as journal:
        journal.writelines(f"{stamp} {channel} {hashed}\n" for channel, hashed in pending)
    path.chmod(0o600)


def drop_pending(session, *_args) -> None:
    """After a rollback: nothing was erased."""
    session.info.pop(PENDING, None)


def listen() -> None:
    """Connect the journal to every session's commit and rollback (once)."""
    if not sa.event.contains(sa.orm.Session, "after_commit", write_pending):
        sa.event.listen(sa.orm.Session, "after_commit", write_pending)
        sa.event.listen(sa.orm.Session, "after_rollback", drop_pending)


def entries() -> list[tuple[datetime, str, str]]:
    """Every journal line: when, channel, hash."""
    path = journal_path()
    if not path.exists():
        return []
    lines = (line.split() for line in path.read_text(encoding="ascii").splitlines() if line.strip())
    return [(datetime.fromisoformat(stamp), channel, hashed) for stamp, channel, hashed in lines]


def forget_before(moment: datetime) -> int:
    """Drop entries older than the oldest backup kept: no restore can bring those people back."""
    kept = [entry for entry in entries() if entry[0] >= moment]
    dropped = len(entries()) - len(kept)
    if dropped:
        journal_path().write_text("".join(f"{t.isoformat(timespec='seconds')} {c} {h}\n" for t, c, h in kept),
                                  encoding="ascii")
    return dropped


def candidates(columns: tuple[str, ...]) -> set[str]:
    """Every distinct value of columns with these names, in every table."""
    values = set()
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if column.name in columns:
                values |= {value for value in db.session.scalars(sa.select(column).distinct()) if value}
    return values


def replay() -> int:
    """Erase again, through the data map, everyone the journal names who is back in the database; the caller
    commits. Returns how many addresses and numbers were found."""
    wanted = {(channel, hashed) for _when, channel, hashed in entries()}
    if not wanted:
        return 0
    people = [Person(email=value) for value in candidates(EMAIL_COLUMNS)
              if ("email", keyed_hash(normalise_email(value))) in wanted]
    people += [Person(phone=value) for value in candidates(PHONE_COLUMNS)
               if ("phone", keyed_hash(value)) in wanted]
    db.session.info[REPLAYING] = True
    try:
        for person in people:
            erase_person(person)
    finally:
        db.session.info.pop(REPLAYING, None)
    return len(people)
