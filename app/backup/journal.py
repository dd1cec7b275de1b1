"""The restore journal: every opt-out, list left, consent withdrawn and erasure, appended as a keyed hash once its
transaction is committed, kept outside the database (BACKUP_JOURNAL) and replayed after a restore, so that a backup
never brings back what a person took away since it was made.

A line: `<UTC time> <kind> <channel> <keyed hash> [<detail>]`. The features write their own kinds (`note`) and say how
to replay them (`register`, wired in `create_app`); this module replays erasures itself, through the data map.
"""

import os
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, current_app

from app.datamap import Person, erase_person
from app.extensions import db
from app.personal import keyed_hash, normalise_email, normalise_phone

PENDING = "kinv_journal"  # session.info key: entries waiting for the commit
REPLAYING = "kinv_replaying"
EXTENSION = "kinv_journal_replayers"
ERASE = "erase"
SUPPRESS = "suppress"  # an address or number put on the opt-out list, any reason (`<reason> <source>` as detail)
EMAIL_COLUMNS = ("email", "recipient")
PHONE_COLUMNS = ("phone", "pending_phone")


class ReplayFailed(RuntimeError):
    """An entry of the journal could not be applied: the restore stops and the live database stays."""


@dataclass(frozen=True)
class Entry:
    """One line of the journal."""

    at: datetime
    kind: str
    channel: str
    hashed: str
    detail: str = ""

    def line(self) -> str:
        """The entry as written."""
        return " ".join(filter(None, (self.at.isoformat(), self.kind, self.channel, self.hashed,
                                      self.detail))) + "\n"


Replayer = Callable[[list[Entry]], int]


def journal_path() -> Path:
    """Where the journal lives (BACKUP_JOURNAL)."""
    return Path(current_app.config["BACKUP_JOURNAL"])


def register(app: Flask, kind: str, replayer: Replayer) -> None:
    """Say how entries of a kind are applied again after a restore (the replayer adds to the session, no commit)."""
    app.extensions.setdefault(EXTENSION, {})[kind] = replayer


def note(kind: str, channel: str, hashed: str, detail: str = "") -> None:
    """Journal an event of the current transaction once it is committed (nothing while a restore replays)."""
    session = db.session()
    if not session.info.get(REPLAYING):
        session.info.setdefault(PENDING, []).append((kind, channel, hashed, detail))


def note_suppression(change, **_extra) -> None:
    """Receiver of `suppression_changed`: every address or number put on the opt-out list, whoever put it there."""
    if change.added:
        note(SUPPRESS, change.channel, keyed_hash(change.identifier), f"{change.reason} {change.source}")


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
    """Receiver of `person_erased`: the person's address and number."""
    for channel, hashed in person_hashes(person):
        note(ERASE, channel, hashed)


def write_pending(session) -> None:
    """After a commit: append the events it made to the journal."""
    pending = session.info.pop(PENDING, None)
    if not pending:
        return
    path, now = journal_path(), datetime.now(UTC)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "a", encoding="ascii") as journal:
            journal.writelines(Entry(now, *fields).line() for fields in pending)
    except OSError as error:  # the person's action is committed: say loudly what a restore would miss, do not fail
        current_app.logger.error("restore journal: %d entr(ies) NOT written to %s (%s); a restore from an older "
                                 "backup would undo them", len(pending), path, error.strerror)


def drop_pending(session, *_args) -> None:
    """After a rollback: nothing happened."""
    session.info.pop(PENDING, None)


def listen() -> None:
    """Connect the journal to every session's commit and rollback (once)."""
    if not sa.event.contains(sa.orm.Session, "after_commit", write_pending):
        sa.event.listen(sa.orm.Session, "after_commit", write_pending)
        sa.event.listen(sa.orm.Session, "after_rollback", drop_pending)


def parse(line: str) -> Entry:
    """A line of the journal (the erasure journal's older three-field lines are erasures)."""
    fields = line.split(maxsplit=4)
    if len(fields) == 3:
        fields = [fields[0], ERASE, *fields[1:]]
    return Entry(datetime.fromisoformat(fields[0]), *fields[1:])


def entries() -> list[Entry]:
    """Every journal entry, oldest first."""
    path = journal_path()
    if not path.exists():
        return []
    found = []
    for number, line in enumerate(path.read_text(encoding="ascii").splitlines(), start=1):
        try:
            found += [parse(line)] if line.strip() else []
        except (ValueError, TypeError) as error:
            raise ReplayFailed(f"{path.name}, line {number}: not a journal entry; mend or remove it") from error
    return found


def forget_before(moment: datetime) -> int:
    """Drop entries older than the oldest backup kept: no restore can bring those back."""
    every = entries()
    kept = [entry for entry in every if entry.at >= moment]
    if len(kept) < len(every):
        journal_path().write_text("".join(entry.line() for entry in kept), encoding="ascii")
    return len(every) - len(kept)


def candidates(columns: tuple[str, ...]) -> set[str]:
    """Every distinct value of columns with these names, in every table."""
    values = set()
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if column.name in columns:
                values |= {value for value in db.session.scalars(sa.select(column).distinct()) if value}
    return values


def by_hash(columns: tuple[str, ...], normalise: Callable[[str], str | None]) -> dict[str, str]:
    """Keyed hash → value, for every address (or number) the database holds in these columns."""
    found = {}
    for value in candidates(columns):
        normalised = normalise(value)
        if normalised:
            found[keyed_hash(normalised)] = value
    return found


def replay_erasures(wanted: list[Entry]) -> int:
    """Erase again, through the data map, everyone named who is back in the database."""
    hashes = {(entry.channel, entry.hashed) for entry in wanted}
    people = [Person(email=value) for hashed, value in by_hash(EMAIL_COLUMNS, normalise_email).items()
              if ("email", hashed) in hashes]
    people += [Person(phone=value) for hashed, value in by_hash(PHONE_COLUMNS, normalise_phone).items()
               if ("phone", hashed) in hashes]
    for person in people:
        erase_person(person)
    return len(people)


def replay(since: datetime) -> dict[str, int]:
    """Apply again every entry made since the backup, kind by kind (erasures last); the caller commits.
    Returns how many people or rows each kind touched; raises ReplayFailed naming the kind that failed."""
    by_kind: dict[str, list[Entry]] = defaultdict(list)
    for entry in entries():
        if entry.at >= since:
            by_kind[entry.kind].append(entry)
    replayers = {**current_app.extensions.get(EXTENSION, {}), ERASE: replay_erasures}
    unknown = set(by_kind) - set(replayers)
    if unknown:
        raise ReplayFailed(f"journal entries of an unknown kind: {', '.join(sorted(unknown))}")
    done = {}
    db.session.info[REPLAYING] = True
    try:
        for kind in sorted(by_kind, key=lambda name: name == ERASE):
            try:
                done[kind] = replayers[kind](by_kind[kind])
                db.session.flush()
            except Exception as error:
                # the class only: a database error's text may quote an address
                raise ReplayFailed(f"replaying the journal's « {kind} » entries failed ({type(error).__name__})") \
                    from error
    finally:
        db.session.info.pop(REPLAYING, None)
    return done
