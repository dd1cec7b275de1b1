"""Benchmark: `flask newsletter send` queuing 100,000 confirmed subscribers, beside its baseline, in one run.

For each database (a scratch SQLite file; a scratch schema in PostgreSQL) and each code base (this tree, and the
baseline revision extracted with `git archive`), one process migrates and fills the database, then a fresh
process sends the campaign and reports the send's time, its own peak RSS and the bytes of bodies and headers
written. The two code bases alternate, so both meet the same machine load.
Usage: `.venv/bin/python bench/newsletter_send.py [--recipients N] [--runs R] [--only sqlite|postgresql]
[--baseline REV|none]`; PostgreSQL is `BENCH_POSTGRESQL_URL` (default the database `test` on 127.0.0.1).
"""

import argparse
import json
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = "c62cde2"  # the last revision that wrote one full body per recipient
POSTGRESQL_URL = os.environ.get("BENCH_POSTGRESQL_URL", "postgresql+psycopg://127.0.0.1:5432/test")
SLUG = "actualites-produit"
SUBJECT = "Nouveautés de novembre"
SUPPRESSED_EVERY = 20  # one subscriber in 20 is on the opt-out list
TEXT = "Bonjour,\n\n" + "Voici les nouveautés de K-Inventory ce mois-ci.\n" * 20
HTML = ("<html><body><h1>Nouveautés</h1>" + "<p>Voici les nouveautés de K-Inventory ce mois-ci.</p>" * 20
        + "</body></html>")


# --- in the child process: the code base under test is on sys.path, its `app` is imported there -------------

def child_app(url: str):
    """The app of the code base on sys.path, on the scratch database."""
    from app import create_app  # imported here: the parent chooses which tree's `app` this process runs
    from app.config import Config

    config = Config()
    config.SQLALCHEMY_DATABASE_URI = url
    config.SITE_URL = "https://www.k-inventory.com"
    config.UNSUBSCRIBE_MAILTO = "desabonnement@k-inventory.com"
    return create_app(config)


def populate(recipients: int) -> None:
    """Migrate, then write confirmed subscribers of the list, one in 20 also on the opt-out list."""
    import sqlalchemy as sa
    from flask import current_app
    from flask_migrate import upgrade

    from app.database import utcnow
    from app.extensions import db
    from app.newsletter.models import Subscriber, Subscription
    from app.personal import keyed_hash
    from app.suppression.models import Suppression

    upgrade(directory=str(Path(current_app.root_path).parent / "migrations"), revision="heads")
    now = utcnow()
    for start in range(0, recipients, 10_000):
        people, lists, optouts = [], [], []
        for number in range(start + 1, min(start + 10_000, recipients) + 1):
            email = f"abonne{number}@example.com"
            hashed = keyed_hash(email)
            people.append({"id": number, "public_id": uuid.uuid4().hex, "email": email, "email_hash": hashed,
                           "language": "en" if number % 7 == 0 else "fr", "email_status": "confirmed",
                           "email_consent_at": now, "email_consent_source": "double_opt_in", "sms_status": "none",
                           "created_at": now, "updated_at": now})
            lists.append({"subscriber_id": number, "list_slug": SLUG, "status": "active", "requested_at": now,
                          "consented_at": now, "consent_source": "double_opt_in"})
            if number % SUPPRESSED_EVERY == 0:
                optouts.append({"channel": "email", "identifier_hash": hashed, "reason": "opt_out",
                                "source": "bench", "created_at": now})
        db.session.execute(sa.insert(Subscriber.__table__), people)
        db.session.execute(sa.insert(Subscription.__table__), lists)
        if optouts:
            db.session.execute(sa.insert(Suppression.__table__), optouts)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":  # as autovacuum would have done for tables this size
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("ANALYZE"))


def stored_bytes() -> int:
    """Bytes of message bodies and headers written: in the outbox, and in campaign bodies where they exist."""
    import sqlalchemy as sa

    from app.extensions import db

    # SQLite's length() counts characters, and octets of a BLOB.
    postgresql = db.engine.dialect.name == "postgresql"
    octets = ("octet_length({})" if postgresql else "length(CAST({} AS BLOB))").format
    columns = f"{octets('body_text')} + coalesce({octets('body_html')}, 0) + {octets('CAST(headers AS TEXT)')}"
    total = 0
    for table in ("outbox", "newsletter_campaign_bodies"):
        if sa.inspect(db.engine).has_table(table):
            total += db.session.scalar(sa.text(f"SELECT coalesce(sum({columns}), 0) FROM {table}")) or 0
    return int(total)


def check_a_message(expected: int) -> None:
    """Every recipient has a row, and one row turns into a complete e-mail: links, one-click, List-Id."""
    import sqlalchemy as sa

    from app.extensions import db
    from app.mail import services
    from app.mail.models import OutboxMessage

    rows = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
    assert rows == expected, (rows, expected)
    message = db.session.scalar(sa.select(OutboxMessage).order_by(OutboxMessage.id).limit(1))
    written = getattr(services, "written", lambda row: row)(message)  # the baseline's rows hold their body
    email = services.build_email(written, "K-Inventory <no-reply@k-inventory.com>")
    assert email["List-Unsubscribe"].startswith("<https://www.k-inventory.com/newsletter/desabonnement/")
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click" and email["List-Id"]
    assert "/newsletter/preferences/" in written.body_text and "/newsletter/desabonnement/" in written.body_html


def child(step: str, url: str, recipients: int) -> None:
    """Run one step in this process (`prepare` or `send`) and print what the parent reads, as JSON."""
    app = child_app(url)
    with app.app_context():
        if step == "prepare":
            populate(recipients)
            print(json.dumps({}))
            return
        from app.newsletter.campaigns import send_campaign

        started = time.perf_counter()
        report = send_campaign(SLUG, SUBJECT, TEXT, HTML)
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        check_a_message(recipients - recipients // SUPPRESSED_EVERY)
        print(json.dumps({"seconds": seconds, "peak_mb": peak, "queued": report.queued,
                          "suppressed": report.suppressed, "stored_mb": stored_bytes() / 1e6}))


# --- in the parent process -------------------------------------------------------------------------------------

def run_step(tree: Path, step: str, url: str, recipients: int, env: dict) -> dict:
    """One step in a fresh interpreter running the given tree's code."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", step, "--url", url,
               "--recipients", str(recipients)]
    result = subprocess.run(command, cwd=tree, env={**env, "PYTHONPATH": str(tree)}, capture_output=True,
                            text=True, check=False)
    if result.returncode:
        raise SystemExit(f"{step} failed in {tree}:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def extract(revision: str, folder: Path) -> Path:
    """The baseline's files (git archive), with its translations compiled."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    for po in folder.glob("translations/*/LC_MESSAGES/*.po"):
        with po.open("rb") as source, po.with_suffix(".mo").open("wb") as target:
            write_mo(target, read_po(source))
    return folder


class Scratch:
    """A scratch database per measurement: a SQLite file, or a PostgreSQL schema dropped afterwards."""

    def __init__(self, dialect: str, folder: Path) -> None:
        self.dialect, self.folder, self.number = dialect, folder, 0

    def __enter__(self) -> str:
        self.number += 1
        if self.dialect == "sqlite":
            return f"sqlite:///{self.folder / f'bench-{self.number}.sqlite'}"
        self.schema = f"bench_newsletter_{os.getpid()}_{self.number}"
        self.execute(f"CREATE SCHEMA {self.schema}")
        return f"{POSTGRESQL_URL}?options=-csearch_path%3D{self.schema}"

    def __exit__(self, *_exc) -> None:
        if self.dialect == "sqlite":
            for path in self.folder.glob(f"bench-{self.number}.sqlite*"):
                path.unlink()
        else:
            self.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")

    def execute(self, statement: str) -> None:
        """One statement on the PostgreSQL server, autocommitted."""
        import sqlalchemy as sa

        engine = sa.create_engine(POSTGRESQL_URL)
        with engine.begin() as connection:
            connection.execute(sa.text(statement))
        engine.dispose()


def measure(name: str, tree: Path, scratch: Scratch, recipients: int, env: dict) -> None:
    """Prepare a database with the tree's code, then time its send in a fresh process; print the line."""
    with scratch as url:
        run_step(tree, "prepare", url, recipients, env)
        figures = run_step(tree, "send", url, recipients, env)
    print(f"{scratch.dialect:<10} {name:<9} {figures['queued']:,} messages queued ({figures['suppressed']:,} held "
          f"back) in {figures['seconds']:.2f} s, peak RSS {figures['peak_mb']:.0f} MB, "
          f"bodies and headers stored {figures['stored_mb']:.1f} MB (load average {os.getloadavg()[0]:.1f})",
          flush=True)


def main() -> int:
    """Measure each database, the baseline and this tree side by side."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--baseline", default=BASELINE, help="a git revision to measure beside, or `none`")
    parser.add_argument("--child", choices=["prepare", "send"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.url, args.recipients)
        return 0
    env = {**os.environ, "INSTANCE_PATH": tempfile.mkdtemp(prefix="kinv-bench-instance-"),
           "SECRET_KEY": secrets.token_urlsafe(48), "HASH_KEY": secrets.token_urlsafe(48)}
    dialects = [args.only] if args.only else ["sqlite", "postgresql"]
    with tempfile.TemporaryDirectory(prefix="kinv-bench-") as folder:
        trees = [("this tree", ROOT)]
        if args.baseline != "none":
            (Path(folder) / "baseline").mkdir()
            baseline = extract(args.baseline, Path(folder) / "baseline")
            trees.insert(0, (f"baseline {args.baseline}", baseline))
        for _ in range(args.runs):
            for dialect in dialects:
                scratch = Scratch(dialect, Path(folder))
                for name, tree in trees:
                    measure(name, tree, scratch, args.recipients, env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
