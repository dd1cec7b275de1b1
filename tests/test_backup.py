"""Backups: age-encrypted and signed by the server, verified by a full restore into a scratch database; a restore
migrates an older backup, refuses a newer, empty or forged one before touching anything, and replays the journal so
nobody who opted out, withdrew a consent or was erased since the backup comes back; pruned after 90 days."""

import io
import os
import sqlite3
import sys
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyrage
import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.auth.models import StaffUser
from app.auth.services import create_staff
from app.backup import journal, services
from app.datamap import Person, erase_person
from app.extensions import db
from app.newsletter.models import Subscriber
from app.personal import keyed_hash
from app.rights.models import RightsRequest
from tests.conftest import TEST_DATABASE_URL, is_postgresql
from tests.support import workers
from tests.support.newsletter import confirmed_subscriber, subscriber

ROOT = Path(__file__).resolve().parent.parent
EMAIL = "efface@example.com"
WRITES = os.O_WRONLY | os.O_RDWR | os.O_CREAT
WRITTEN: list[list[str]] = []  # while a list is in it: every file this process opens to write (audit events)


def record_writes(event: str, args: tuple) -> None:
    """Audit hook: `open` for writing and `sqlite3.connect` (SQLite writes its files from C)."""
    opened = event == "open" and isinstance(args[0], str | Path) and (
        any(flag in (args[1] or "") for flag in "wax+") or (args[2] or 0) & WRITES)
    if WRITTEN and (opened or event == "sqlite3.connect"):
        WRITTEN[-1].append(str(args[0]))


sys.addaudithook(record_writes)


def signing_key_file(path: Path) -> Path:
    """A new Ed25519 key in PEM, as `flask backup keygen` prints it."""
    pem = Ed25519PrivateKey.generate().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption())
    path.write_bytes(pem)
    return path


@pytest.fixture
def backup_settings(tmp_path):
    """An age identity and a signing key of the server's, backups and the journal in a temporary folder."""
    identity = pyrage.x25519.Identity.generate()
    (tmp_path / "age.key").write_text(f"# backup key\n{identity}\n")
    return {"BACKUP_DIR": str(tmp_path / "backups"), "BACKUP_AGE_RECIPIENTS": [str(identity.to_public())],
            "BACKUP_AGE_IDENTITY_FILE": str(tmp_path / "age.key"),
            "BACKUP_SIGNING_KEY_FILE": str(signing_key_file(tmp_path / "signing.pem")),
            "BACKUP_JOURNAL": str(tmp_path / "backups" / "journal.txt")}


def live_database(tmp_path) -> str:
    """The database a restore may replace: the worker's PostgreSQL one, or a copy of the migrated SQLite file (a
    restore renames a new file over it, which the suite's other connections must not hold)."""
    if is_postgresql():
        return TEST_DATABASE_URL
    live = tmp_path / "live.sqlite"
    with closing(sqlite3.connect(sa.make_url(TEST_DATABASE_URL).database)) as source, \
            closing(sqlite3.connect(live)) as copy:
        source.backup(copy)
    return f"sqlite:///{live}"


@pytest.fixture
def backup_app(make_app, tmp_path, backup_settings):
    """The app with backups into a temporary folder, on a database a restore may replace."""
    app = make_app(SQLALCHEMY_DATABASE_URI=live_database(tmp_path), **backup_settings)
    with app.app_context():
        yield app


@pytest.fixture
def runner(backup_app):
    """A CLI runner of the backup app."""
    return backup_app.test_cli_runner()


def restore(runner, path: Path):
    """`flask backup restore FILE --yes`."""
    return runner.invoke(args=["backup", "restore", str(path), "--yes"])


def emails() -> set[str]:
    """Every subscriber's address, read afresh."""
    db.session.remove()
    return set(db.session.scalars(sa.select(Subscriber.email)))


def file_id() -> tuple[int, int] | None:
    """The live SQLite file's device and inode (None on PostgreSQL)."""
    if db.engine.dialect.name != "sqlite":
        return None
    found = Path(db.engine.url.database).stat()
    return found.st_dev, found.st_ino


def test_create_list_verify_and_nothing_in_clear(backup_app, runner, mailbox, tmp_path):
    confirmed_subscriber(backup_app.test_client(), mailbox, EMAIL)
    WRITTEN.append([])
    try:
        created = runner.invoke(args=["backup", "create"])
        [made] = services.backups()
        verified = runner.invoke(args=["backup", "verify", str(made.path)])
        restored = restore(runner, made.path)
    finally:
        written = WRITTEN.pop()
    assert created.exit_code == 0 and verified.exit_code == 0 and restored.exit_code == 0, verified.output
    assert "newsletter_subscribers: 1" in verified.output and "OK:" in verified.output
    assert made.path.read_bytes().startswith(b"age-encryption.org/v1") and made.path.stat().st_mode & 0o077 == 0
    assert made.signature_file.exists() and made.path.name in runner.invoke(args=["backup", "list"]).output
    for path in made.path.parent.iterdir():
        assert EMAIL.encode() not in path.read_bytes() and b"efface" not in path.read_bytes()
    assert any(path.endswith(".part") for path in written), "the audit hook sees the files written"
    beside = (os.devnull, str(made.path.parent), f"{tmp_path}/live.sqlite", f"{tmp_path}/.live.sqlite.")
    assert [path for path in written if not path.startswith(beside)] == [], \
        "the dump streams into age: files written only in BACKUP_DIR, or (SQLite) beside the database"
    assert not list(tmp_path.glob(".live.sqlite.*")), "no copy left beside the database"


def test_damaged_unsigned_and_foreign_signed_files_are_refused_before_decrypting(backup_app, runner, tmp_path):
    made = services.create()
    backup_app.config["BACKUP_AGE_IDENTITY_FILE"] = ""  # a decryption attempt would complain of this
    data = bytearray(made.path.read_bytes())
    data[-5] ^= 1
    made.path.write_bytes(bytes(data))
    damaged = runner.invoke(args=["backup", "verify", str(made.path)])
    assert damaged.exit_code != 0 and "not signed by this server's key" in damaged.output
    made.signature_file.unlink()
    unsigned = runner.invoke(args=["backup", "verify", str(made.path)])
    assert unsigned.exit_code != 0 and "unsigned" in unsigned.output


def test_a_forged_backup_with_an_extra_dpo_account_is_refused(backup_app, runner, tmp_path):
    create_staff("intrus@example.com", "mot de passe tres long 42", "dpo")
    server_key = backup_app.config["BACKUP_SIGNING_KEY_FILE"]
    backup_app.config["BACKUP_SIGNING_KEY_FILE"] = str(signing_key_file(tmp_path / "attacker.pem"))
    forged = services.create()  # the attacker knows the public age key and signs with a key of their own
    db.session.execute(sa.delete(StaffUser))
    db.session.commit()
    backup_app.config["BACKUP_SIGNING_KEY_FILE"] = server_key
    for command in (["verify", str(forged.path)], ["restore", str(forged.path), "--yes"]):
        result = runner.invoke(args=["backup", *command])
        assert result.exit_code != 0 and "not signed by this server's key" in result.output, result.output
    db.session.remove()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StaffUser)) == 0


def test_an_empty_backup_is_refused_and_the_database_stays(backup_app, runner, mailbox):
    confirmed_subscriber(backup_app.test_client(), mailbox, EMAIL)
    made = services.create()
    sealed = io.BytesIO()
    pyrage.encrypt_io(io.BytesIO(b""), sealed, [pyrage.x25519.Recipient.from_str(
        backup_app.config["BACKUP_AGE_RECIPIENTS"][0])])
    made.path.write_bytes(sealed.getvalue())  # a header-only file, even signed by the server itself
    made.signature_file.write_text(services.crypto.sign(made.path.name, services.sha256_of(made.path),
                                                        backup_app.config))
    before = file_id()
    result = restore(runner, made.path)
    assert result.exit_code != 0 and "The database was not replaced." in result.output, result.output
    assert emails() == {EMAIL} and file_id() == before
    assert not list(Path(db.engine.url.database).parent.glob(".*restore-*")) if before else True


def test_a_newer_schema_backup_is_refused(backup_app, runner, mailbox):
    confirmed_subscriber(backup_app.test_client(), mailbox, EMAIL)
    [current] = db.session.scalars(sa.text("SELECT version_num FROM alembic_version"))
    db.session.execute(sa.text("UPDATE alembic_version SET version_num = '0999_future'"))
    db.session.commit()
    try:
        made = services.create()
    finally:
        db.session.execute(sa.text("UPDATE alembic_version SET version_num = :current"), {"current": current})
        db.session.commit()
    db.session.execute(sa.delete(Subscriber))
    db.session.commit()
    result = restore(runner, made.path)
    assert result.exit_code != 0 and "made by a newer version of the site" in result.output, result.output
    assert "0999_future" in result.output and emails() == set()


@pytest.fixture
def old_database(tmp_path):
    """A database of its own, for a backup made by an older version of the site."""
    if not is_postgresql():
        yield f"sqlite:///{tmp_path / 'old.sqlite'}"
        return
    live = sa.make_url(TEST_DATABASE_URL)
    url = live.set(database=f"{live.database}_old").render_as_string(hide_password=False)
    workers.create_database(url, TEST_DATABASE_URL)
    yield url
    workers.drop_database(url, TEST_DATABASE_URL)


def test_an_older_schema_backup_is_migrated_before_the_journal_is_replayed(make_app, backup_app, runner,
                                                                              backup_settings, old_database, mailbox):
    from flask_migrate import upgrade

    old = make_app(SQLALCHEMY_DATABASE_URI=old_database, **backup_settings)
    with old.app_context():
        upgrade(revision="0090_merge")
        now = datetime.now(UTC)
        db.session.execute(sa.text(
            "INSERT INTO newsletter_subscribers (public_id, email, email_hash, language, email_status, sms_status, "
            "created_at, updated_at) VALUES ('p1', :email, :hashed, 'fr', 'confirmed', 'none', :now, :now)"),
            {"email": EMAIL, "hashed": keyed_hash(EMAIL), "now": now})
        db.session.commit()
        made = services.create()
        db.session.remove()
        db.engine.dispose()
    confirmed_subscriber(backup_app.test_client(), mailbox, EMAIL)
    erase_person(Person(email=EMAIL))
    db.session.commit()
    result = restore(runner, made.path)
    assert result.exit_code == 0, result.output
    assert "(migrated)" in result.output and "erase 1" in result.output
    assert emails() == set(), "the erased person did not come back"
    heads = set(db.session.scalars(sa.text("SELECT version_num FROM alembic_version")))
    assert heads == set(ScriptDirectory(str(ROOT / "migrations")).get_heads()), "the database is at this code's schema"


def test_a_journal_that_cannot_be_replayed_leaves_the_database_as_it_was(backup_app, runner, mailbox):
    made = services.create()
    confirmed_subscriber(backup_app.test_client(), mailbox, EMAIL)
    before = file_id()
    with Path(backup_app.config["BACKUP_JOURNAL"]).open("a") as lines:
        lines.write(f"{datetime.now(UTC).isoformat(timespec='seconds')} rename email {'0' * 64} x\n")
    result = restore(runner, made.path)
    assert result.exit_code != 0 and "unknown kind: rename" in result.output, result.output
    assert emails() == {EMAIL} and file_id() == before


def test_create_erase_restore_and_the_person_stays_erased(backup_app, runner, mailbox):
    from tests.support.rights import confirmed_request, staff_action, staff_client

    client = backup_app.test_client()
    confirmed_subscriber(client, mailbox, EMAIL)
    confirmed_subscriber(client, mailbox, "reste@example.com")
    made = services.create()
    reference = confirmed_request(client, mailbox, EMAIL, kind="erasure").reference
    assert staff_action(staff_client(backup_app, "dpo"), reference, "effacer", confirmed="1").status_code == 303
    assert subscriber(EMAIL) is None
    lines = Path(backup_app.config["BACKUP_JOURNAL"]).read_text()
    assert EMAIL not in lines and "erase email" in lines, "keyed hashes, never the address"
    before = file_id()
    result = restore(runner, made.path)
    assert result.exit_code == 0, result.output
    assert before is None or file_id() != before, "on SQLite a new file was renamed over the old one"
    assert "erase 1" in result.output and "hour(s)" in result.output
    assert emails() == {"reste@example.com"}, "the erased person did not come back; the other one did"
    assert not db.session.scalar(sa.select(sa.func.count()).select_from(RightsRequest).where(
        RightsRequest.email == EMAIL)), "the backup predates the request"


def test_opt_outs_withdrawals_and_erasures_since_the_backup_survive_the_restore(make_app, tmp_path, backup_settings,
                                                                                 mailbox):
    from app.audiences.services import audience
    from app.newsletter.campaigns import send_campaign, sms_audience
    from app.suppression.services import is_suppressed
    from tests.conftest import deliver_mail
    from tests.support.consent import choose
    from tests.support.newsletter import path_of
    from tests.test_newsletter_unsubscribe import unsubscribe_url
    from tests.test_sms_webhook import NUMBER, SECRET, inbound, post_sms

    app = make_app(SQLALCHEMY_DATABASE_URI=live_database(tmp_path), SMS_WEBHOOK_SECRET=SECRET,
                   SITE_URL="https://www.k-inventory.com", **backup_settings)
    with app.app_context():
        browsers = {}
        for email in ("clic@example.com", "stop@example.com", EMAIL, "retrait@example.com", "reste@example.com"):
            browsers[email] = app.test_client()
            choose(browsers[email], "accept_all")
            confirmed_subscriber(browsers[email], mailbox, email, ["actualites-produit", "evenements"],
                                 phone=NUMBER if email.startswith("stop") else "")
        send_campaign("actualites-produit", "Nouveautés", "Bonjour")
        deliver_mail()
        [message] = mailbox.to("clic@example.com")[-1:]
        made = services.create()

        one_click = app.test_client(use_cookies=False).post(path_of(unsubscribe_url(message)),
                                                            data={"List-Unsubscribe": "One-Click"})
        assert one_click.status_code == 200
        assert post_sms(app, inbound("STOP")).status_code == 200
        erase_person(Person(email=EMAIL))
        db.session.commit()
        assert choose(browsers["retrait@example.com"], "refuse_all").status_code in (200, 303)
        written = Path(backup_settings["BACKUP_JOURNAL"]).read_text()
        assert "@" not in written and NUMBER not in written and "+336" not in written

        result = restore(app.test_cli_runner(), made.path)
        assert result.exit_code == 0, result.output
        assert "hour(s)" in result.output and "(the backup's age)" in result.output
        assert "erase 1, leave 1, suppress 1, withdraw 1" in result.output, result.output
        clicked = subscriber("clic@example.com")
        assert clicked.subscription("actualites-produit").status == "unsubscribed", "the one-click holds"
        assert clicked.subscription("evenements").status == "active", "and left the other list alone"
        assert subscriber("stop@example.com").sms_status == "unsubscribed" and sms_audience() == []
        assert is_suppressed("sms", phone=NUMBER)
        assert subscriber(EMAIL) is None
        advertised = {candidate.email for candidate in audience("actualites-produit")}
        assert advertised == {"stop@example.com", "reste@example.com"}, "the withdrawal holds"
        report = send_campaign("actualites-produit", "Nouveautés 2", "Bonjour")
        queued = set(db.session.scalars(sa.text("SELECT recipient FROM outbox WHERE subject = 'Nouveautés 2'")))
        assert queued == {"stop@example.com", "retrait@example.com", "reste@example.com"} and report.queued == 3


def test_after_a_point_in_time_recovery_the_journal_is_replayed_from_that_moment(backup_app, runner, mailbox):
    from app.suppression.services import is_suppressed

    confirmed_subscriber(backup_app.test_client(), mailbox, EMAIL)
    recovered_to = datetime.now(UTC).replace(microsecond=0)
    Path(backup_app.config["BACKUP_JOURNAL"]).parent.mkdir(parents=True, exist_ok=True)
    with Path(backup_app.config["BACKUP_JOURNAL"]).open("a") as lines:  # an opt-out the recovery lost
        lines.write(f"{recovered_to.isoformat()} suppress email {keyed_hash(EMAIL)} opt_out one_click\n")
    result = runner.invoke(args=["backup", "replay", "--since", recovered_to.strftime("%Y-%m-%d %H:%M:%S")])
    assert result.exit_code == 0 and "suppress 1" in result.output, result.output
    db.session.remove()
    assert is_suppressed("email", email=EMAIL) and subscriber(EMAIL).email_status == "unsubscribed"


def test_an_unwritable_journal_is_logged_and_the_opt_out_still_holds(backup_app, mailbox, tmp_path, caplog):
    from app.suppression.services import is_suppressed, suppress

    confirmed_subscriber(backup_app.test_client(), mailbox, EMAIL)
    backup_app.config["BACKUP_JOURNAL"] = str(tmp_path / "a-file" / "journal.txt")
    (tmp_path / "a-file").write_text("not a folder")
    suppress("email", email=EMAIL, source="staff")
    db.session.commit()
    assert is_suppressed("email", email=EMAIL)
    assert "restore journal: 2 entr(ies) NOT written" in caplog.text and EMAIL not in caplog.text


def test_a_backup_of_the_other_engine_is_refused(backup_app, runner):
    made = services.create()
    other = ".pgdump.age" if made.engine == "sqlite" else ".sqlite.gz.age"
    moved = made.path.with_name(made.path.name.split(".")[0] + other)
    made.path.rename(moved)
    moved.with_name(moved.name + ".sig").write_text(services.crypto.sign(
        moved.name, services.sha256_of(moved), backup_app.config))
    result = runner.invoke(args=["backup", "verify", str(moved)])
    assert result.exit_code != 0 and "cannot go into this" in result.output


def test_prune_deletes_backups_over_90_days_and_the_journal_lines_no_backup_needs(backup_app, runner):
    made = services.create()
    old = made.path.with_name(made.path.name.replace(made.path.name[5:21], "20200101T000000Z"))
    old.write_bytes(made.path.read_bytes())
    legacy = made.path.with_name("kinv-20200102T000000Z.pgdump.gz.aes")  # an older release's format
    legacy.write_bytes(b"KINVAES1")
    legacy.with_name(legacy.name + ".sha256").write_text("x  y\n")
    assert "older format" in runner.invoke(args=["backup", "list"]).output
    Path(backup_app.config["BACKUP_JOURNAL"]).write_text(
        "2020-01-02T00:00:00+00:00 email aaaa\n2999-01-01T00:00:00+00:00 suppress email bbbb opt_out staff\n")
    assert "2 backup(s) older than 90 days deleted." in runner.invoke(args=["backup", "prune"]).output
    assert [b.path.name for b in services.backups()] == [made.path.name]
    assert sorted(path.name for path in made.path.parent.glob("kinv-*")) == [made.path.name, made.path.name + ".sig"]
    assert [entry.hashed for entry in journal.entries()] == ["bbbb"]


def test_keygen_prints_each_key_and_where_it_belongs(runner):
    result = runner.invoke(args=["backup", "keygen"])
    assert result.exit_code == 0
    for expected in ("AGE-SECRET-KEY-1", "BACKUP_AGE_IDENTITY_FILE", "BACKUP_AGE_RECIPIENTS=age1",
                     "BACKUP_SIGNING_KEY_FILE", "-----BEGIN PRIVATE KEY-----", "BACKUP_SIGNING_PUBLIC_KEY="):
        assert expected in result.output


def test_without_keys_nothing_is_written(make_app, tmp_path):
    app = make_app(BACKUP_DIR=str(tmp_path / "none"), BACKUP_AGE_RECIPIENTS=[])
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["backup", "create"])
    assert result.exit_code != 0 and "BACKUP_AGE_RECIPIENTS" in result.output
    assert not list((tmp_path / "none").glob("kinv-*"))


def test_the_scheduled_backup_is_skipped_in_development_without_a_key(make_app, tmp_path, backup_settings):
    from app.jobs.registry import backup

    app = make_app(**{**backup_settings, "BACKUP_AGE_RECIPIENTS": []})
    with app.app_context():
        assert backup(datetime.now(UTC)).startswith("skipped")
        app.config.update(backup_settings)
        assert ".age" in backup(datetime.now(UTC) + timedelta(seconds=1))
