"""Backups: encrypted, checksummed, verified by a restore into a temporary database; a restore never brings an
erased person back (the erasure journal); old backups pruned after 90 days."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyrage
import pytest
import sqlalchemy as sa

from app.backup import journal, services
from app.backup.crypto import new_aes_key
from app.extensions import db
from app.newsletter.models import Subscriber
from app.rights.models import RightsRequest
from tests.support.newsletter import confirmed_subscriber, subscriber
from tests.support.rights import confirmed_request, staff_action, staff_client

EMAIL = "efface@example.com"


@pytest.fixture
def backup_app(make_app, tmp_path):
    """The app with backups into a temporary folder, encrypted with a fresh AES key."""
    app = make_app(BACKUP_DIR=str(tmp_path / "backups"), BACKUP_KEY=new_aes_key(),
                   ERASURE_JOURNAL=str(tmp_path / "backups" / "erasure-journal.txt"))
    with app.app_context():
        yield app


@pytest.fixture
def runner(backup_app):
    """A CLI runner of the backup app."""
    return backup_app.test_cli_runner()


def test_create_list_verify_and_nothing_in_clear(backup_app, runner, mailbox):
    client = backup_app.test_client()
    confirmed_subscriber(client, mailbox, EMAIL)
    result = runner.invoke(args=["backup", "create"])
    assert result.exit_code == 0, result.output
    [made] = services.backups()
    assert made.path.name.endswith(".gz.aes") and made.path.stat().st_mode & 0o077 == 0
    for path in made.path.parent.iterdir():
        assert EMAIL.encode() not in path.read_bytes() and b"efface" not in path.read_bytes()
    assert made.path.name in runner.invoke(args=["backup", "list"]).output
    verified = runner.invoke(args=["backup", "verify", str(made.path)])
    assert verified.exit_code == 0, verified.output
    assert "newsletter_subscribers: 1" in verified.output and "OK:" in verified.output


def test_a_damaged_file_or_a_wrong_key_fails_verification(backup_app, runner):
    made = services.create()
    backup_app.config["BACKUP_KEY"] = new_aes_key()
    wrong_key = runner.invoke(args=["backup", "verify", str(made.path)])
    assert wrong_key.exit_code != 0 and "wrong BACKUP_KEY" in wrong_key.output
    data = bytearray(made.path.read_bytes())
    data[-5] ^= 1
    made.path.write_bytes(bytes(data))
    damaged = runner.invoke(args=["backup", "verify", str(made.path)])
    assert damaged.exit_code != 0 and "checksum mismatch" in damaged.output


def test_age_wins_when_both_are_set(backup_app, runner, tmp_path):
    identity = pyrage.x25519.Identity.generate()
    key_file = tmp_path / "age.key"
    key_file.write_text(f"# backup key\n{identity}\n")
    backup_app.config.update(BACKUP_AGE_RECIPIENTS=[str(identity.to_public())], BACKUP_AGE_IDENTITY_FILE=str(key_file))
    made = services.create()
    assert made.path.name.endswith(".gz.age") and made.path.read_bytes().startswith(b"age-encryption.org/v1")
    assert "OK:" in runner.invoke(args=["backup", "verify", str(made.path)]).output
    backup_app.config["BACKUP_AGE_IDENTITY_FILE"] = ""
    assert "BACKUP_AGE_IDENTITY_FILE" in runner.invoke(args=["backup", "verify", str(made.path)]).output


def test_without_a_key_nothing_is_written(make_app, tmp_path):
    app = make_app(BACKUP_DIR=str(tmp_path / "none"), BACKUP_KEY="")
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["backup", "create"])
    assert result.exit_code != 0 and "BACKUP_AGE_RECIPIENTS or BACKUP_KEY" in result.output
    assert not list((tmp_path / "none").glob("kinv-*"))


def test_prune_deletes_backups_over_90_days_and_the_journal_lines_no_backup_needs(backup_app, runner):
    made = services.create()
    folder = made.path.parent
    old = folder / made.path.name.replace(made.path.name[5:21], "20200101T000000Z")
    old.write_bytes(made.path.read_bytes())
    old.with_name(old.name + ".sha256").write_text("x  y\n")
    Path(backup_app.config["ERASURE_JOURNAL"]).write_text(
        "2020-01-02T00:00:00+00:00 email aaaa\n2999-01-01T00:00:00+00:00 email bbbb\n")
    assert "1 backup(s) older than 90 days deleted." in runner.invoke(args=["backup", "prune"]).output
    assert [b.path.name for b in services.backups()] == [made.path.name]
    assert [entry[2] for entry in journal.entries()] == ["bbbb"]


def test_create_erase_restore_and_the_person_stays_erased(backup_app, runner, mailbox):
    client = backup_app.test_client()
    confirmed_subscriber(client, mailbox, EMAIL)
    confirmed_subscriber(client, mailbox, "reste@example.com")
    made = services.create()
    reference = confirmed_request(client, mailbox, EMAIL, kind="erasure").reference
    assert staff_action(staff_client(backup_app, "dpo"), reference, "effacer", confirmed="1").status_code == 303
    assert subscriber(EMAIL) is None
    lines = Path(backup_app.config["ERASURE_JOURNAL"]).read_text()
    assert EMAIL not in lines and len(lines.splitlines()) == 1, "one keyed hash, never the address"
    result = runner.invoke(args=["backup", "restore", str(made.path), "--yes"])
    assert result.exit_code == 0, result.output
    assert "erased again from the journal: 1" in result.output
    db.session.expire_all()
    emails = set(db.session.scalars(sa.select(Subscriber.email)))
    assert emails == {"reste@example.com"}, "the erased person did not come back; the other one did"
    assert not db.session.scalar(sa.select(sa.func.count()).select_from(RightsRequest).where(
        RightsRequest.email == EMAIL)), "the backup predates the request"


def test_a_backup_of_the_other_engine_is_refused(backup_app, runner):
    made = services.create()
    other = "pgdump" if ".sqlite." in made.path.name else "sqlite"
    moved = made.path.with_name(made.path.name.replace(made.path.name.split(".")[1], other))
    made.path.rename(moved)
    made.checksum_file.rename(moved.with_name(moved.name + ".sha256"))
    moved.with_name(moved.name + ".sha256").write_text(f"{services.sha256_of(moved)}  {moved.name}\n")
    result = runner.invoke(args=["backup", "verify", str(moved)])
    assert result.exit_code != 0 and "cannot go into this" in result.output


def test_the_scheduled_backup_is_skipped_in_development_without_a_key(make_app, tmp_path):
    from app.jobs.registry import backup

    app = make_app(BACKUP_DIR=str(tmp_path / "dev"), BACKUP_KEY="")
    with app.app_context():
        assert backup(datetime.now(UTC)).startswith("skipped")
        app.config["BACKUP_KEY"] = new_aes_key()
        assert ".sqlite.gz.aes" in backup(datetime.now(UTC) + timedelta(seconds=1)) or ".pgdump" in backup(
            datetime.now(UTC))
