"""Benchmark: `flask retention run` over 1,000,000 expired consent proofs and 100,000 subscribers, then
`flask backup create` and `flask backup verify` of that database, on SQLite and on PostgreSQL.

Each command runs in its own process (time and peak RSS from wait4), beside baselines measured in the same run:
the bare DELETE of the proofs without the app (rolled back), a run with nothing left to do, and the bare dump
(SQLite's backup API, or pg_dump -Fc) without compression, encryption or signature.
Creates its own scratch SQLite file, and a scratch PostgreSQL database (BENCH_PG_URL, default the server at
127.0.0.1 as postgres) that it drops afterwards.
Usage: `.venv/bin/python bench/retention_backup.py [--proofs N] [--subscribers N] [--only sqlite|postgresql]`.
"""

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("INSTANCE_PATH", tempfile.mkdtemp(prefix="kinv-bench-instance-"))
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(48))
os.environ.setdefault("HASH_KEY", secrets.token_urlsafe(48))

import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from app import create_app  # noqa: E402
from app.backup.crypto import new_keys  # noqa: E402
from app.config import Config, psycopg_url  # noqa: E402
from app.consent.models import ConsentRecord  # noqa: E402
from app.extensions import db  # noqa: E402
from app.newsletter.models import Subscriber, SubscriberEvent, Subscription  # noqa: E402
from app.personal import keyed_hash  # noqa: E402

NOW = datetime.now(UTC)
YEAR, DAY = timedelta(days=365), timedelta(days=1)
FLASK = str(Path(sys.executable).parent / "flask")
LIMITS = {"seconds": 10.0, "rss_mb": 150.0}


def fill_proofs(count: int) -> None:
    """`count` consent records six years old, written by the database itself."""
    series = ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count) SELECT i FROM n"
              if db.engine.dialect.name == "sqlite" else "SELECT i FROM generate_series(1, :count) AS n(i)")
    choices = "'{\"analytics\": true, \"ads\": false}'" + ("::json" if db.engine.dialect.name != "sqlite" else "")
    statement = sa.text(
        "INSERT INTO consent_records (consent_id, recorded_at, choices, register_version, policy_version, action, "
        f"withdrawal, source, channel, ip_prefix, browser) SELECT 'c' || i, :old, {choices}, '2026-11-24', 1, "
        f"'accept_all', false, 'banner', 'js', '203.0.113.0/24', 'Firefox' FROM ({series}) AS s"
    ).bindparams(sa.bindparam("old", type_=ConsentRecord.recorded_at.type))
    db.session.execute(statement, {"count": count, "old": NOW - 6 * YEAR})
    db.session.commit()


def history(number: int) -> tuple[datetime, bool]:
    """A subscriber's last positive action and whether they were asked 40 days ago: 40 % expired, 20 % to ask,
    40 % active."""
    group = number % 10
    if group < 4:
        return NOW - 3 * YEAR - 60 * DAY, True
    if group < 6:
        return NOW - 3 * YEAR + 10 * DAY, False
    return NOW - 100 * DAY, False


def fill_subscribers(count: int) -> None:
    """Confirmed subscribers with their list and history (request, confirmation, maybe a question)."""
    for start in range(1, count + 1, 10_000):
        people, lists, events = [], [], []
        for number in range(start, min(start + 10_000, count + 1)):
            last, asked = history(number)
            email = f"abonne{number}@example.com"
            people.append({"id": number, "public_id": uuid.uuid4().hex, "email": email, "email_hash": keyed_hash(email),
                           "language": "en" if number % 7 == 0 else "fr", "email_status": "confirmed",
                           "email_consent_at": last, "email_consent_source": "double_opt_in", "sms_status": "none",
                           "created_at": last, "updated_at": last})
            lists.append({"subscriber_id": number, "list_slug": "actualites-produit", "status": "active",
                          "requested_at": last, "consented_at": last, "consent_source": "double_opt_in"})
            events += [{"subscriber_id": number, "occurred_at": last, "action": action, "source": "web_form",
                        "channel": "email", "detail": {}} for action in ("subscribe_requested", "confirmed")]
            if asked:
                events.append({"subscriber_id": number, "occurred_at": NOW - 40 * DAY, "action": "repermission_asked",
                               "source": "repermission", "channel": "email", "detail": {}})
        db.session.execute(sa.insert(Subscriber.__table__), people)
        db.session.execute(sa.insert(Subscription.__table__), lists)
        db.session.execute(sa.insert(SubscriberEvent.__table__), events)
    db.session.commit()


# A small parent for each measured command: Linux keeps a process's peak RSS across fork and exec, so the command
# must not be forked from this (large) process.
LAUNCHER = """
import os, subprocess, sys, time
started = time.perf_counter()
process = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
output = process.stdout.read()
_pid, status, usage = os.wait4(process.pid, 0)
print(f"{time.perf_counter() - started} {usage.ru_maxrss} {usage.ru_utime + usage.ru_stime} "
      f"{os.waitstatus_to_exitcode(status)}")
print(output, end="")
"""


def measured(*args: str, env: dict) -> tuple[float, float, float, str]:
    """Run a command in its own process: wall seconds, peak RSS in MB, CPU seconds, output."""
    result = subprocess.run([sys.executable, "-S", "-c", LAUNCHER, *args], cwd=ROOT, env=env, capture_output=True,
                            text=True, check=True)
    head, _, output = result.stdout.partition("\n")
    elapsed, rss_kb, cpu, code = head.split()
    if int(code) != 0:
        raise RuntimeError(f"{' '.join(args[1:3])} failed:\n{output}")
    return float(elapsed), int(rss_kb) / 1024, float(cpu), output


BARE_DELETE = """
import sys, sqlalchemy as sa
from datetime import datetime
engine = sa.create_engine(sys.argv[1])
with engine.connect() as connection:
    transaction = connection.begin()
    rows = connection.execute(sa.text("DELETE FROM consent_records WHERE recorded_at < :cutoff"),
                              {"cutoff": sys.argv[2]}).rowcount
    transaction.rollback()
print(rows)
"""

BARE_DUMP = """
import sqlite3, sys
with sqlite3.connect(sys.argv[1]) as source, sqlite3.connect(sys.argv[2]) as copy:
    source.backup(copy)
"""


def cutoff_text(dialect: str) -> str:
    """Five years ago, as the database stores it."""
    cutoff = NOW - 5 * YEAR
    return cutoff.strftime("%Y-%m-%d %H:%M:%S.%f") if dialect == "sqlite" else cutoff.isoformat()


def report(label: str, figures: tuple, note: str = "", limit: bool = False) -> None:
    """One line of figures (wall time, CPU time, peak RSS); with `limit`, the issue's bounds are checked."""
    elapsed, rss, cpu = figures[:3]
    verdict = ""
    if limit:
        ok = elapsed <= LIMITS["seconds"] and rss <= LIMITS["rss_mb"]
        verdict = "  [within 10 s / 150 MB]" if ok else "  [OVER 10 s / 150 MB]"
    print(f"  {label:<52} {elapsed:6.2f} s (CPU {cpu:5.2f} s)  peak RSS {rss:6.1f} MB  {note}{verdict}", flush=True)


def backup_keys(folder: Path) -> dict[str, str]:
    """The backup settings of a fresh age identity and signing key, kept in the benchmark's folder."""
    keys = new_keys()
    for name, text in (("age.key", keys["age_identity"] + "\n"), ("signing.pem", keys["signing_key"])):
        (folder / name).write_text(text)
        (folder / name).chmod(0o600)
    return {"BACKUP_AGE_RECIPIENTS": keys["age_recipient"], "BACKUP_AGE_IDENTITY_FILE": str(folder / "age.key"),
            "BACKUP_SIGNING_KEY_FILE": str(folder / "signing.pem")}


def bench(name: str, url: str, proofs: int, subscribers: int, folder: Path) -> None:
    """Fill, then time the baselines and the commands (each in its own process, see LAUNCHER)."""
    env = {**os.environ, "DATABASE_URL": url, "FLASK_APP": "wsgi:app", "BACKUP_DIR": str(folder / "backups"),
           "SITE_URL": "https://www.k-inventory.com", **backup_keys(folder)}
    config = Config()
    config.SQLALCHEMY_DATABASE_URI = psycopg_url(url)
    app = create_app(config)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"), revision="heads")
        started = time.perf_counter()
        fill_proofs(proofs)
        fill_subscribers(subscribers)
        dialect = db.engine.dialect.name
        db.engine.dispose()
    print(f"{name}: {proofs:,} expired proofs and {subscribers:,} subscribers written in "
          f"{time.perf_counter() - started:.1f} s; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs",
          flush=True)
    python = sys.executable
    figures = measured(python, "-c", BARE_DELETE, psycopg_url(url), cutoff_text(dialect), env=env)
    report("baseline: bare DELETE of the proofs (no app)", figures, f"{int(figures[3]):,} rows, rolled back")
    if dialect == "sqlite":
        size = Path(url.removeprefix("sqlite:///")).stat().st_size
        figures = measured(python, "-c", BARE_DUMP, url.removeprefix("sqlite:///"), str(folder / "bare"), env=env)
        report("baseline: bare dump (SQLite backup API)", figures, f"database {size / 1e6:.0f} MB")
    else:
        figures = measured("pg_dump", "-Fc", "-f", str(folder / "bare"), url, env=env)
        report("baseline: bare pg_dump -Fc", figures, f"dump {(folder / 'bare').stat().st_size / 1e6:.0f} MB")
    figures = measured(FLASK, "backup", "create", env=env)
    made = Path(figures[3].split(" (")[0].strip())
    report("flask backup create (dump streamed into age, signed)", figures, f"{made.stat().st_size / 1e6:.0f} MB")
    figures = measured(FLASK, "backup", "verify", str(made), env=env)
    report("flask backup verify (signed, scratch restore, counts)", figures, figures[3].strip().splitlines()[-1][:24])
    figures = measured(FLASK, "retention", "run", env=env)
    acted = {line.split(":")[0]: line for line in figures[3].splitlines()}
    report("flask retention run", figures, limit=True)
    for rule in ("preuves_consentement", "newsletter_relance", "newsletter_prospects"):
        print(f"    {acted[rule]}", flush=True)
    report("baseline: flask retention run, nothing left to do", measured(FLASK, "retention", "run", env=env))
    print(f"  load average at the end: {os.getloadavg()[0]:.1f}", flush=True)


def main() -> int:
    """Run the benchmark on each database."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--proofs", type=int, default=1_000_000)
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    if args.only in (None, "sqlite"):
        with tempfile.TemporaryDirectory(prefix="kinv-bench-") as folder:
            bench("SQLite", f"sqlite:///{Path(folder) / 'bench.sqlite'}", args.proofs, args.subscribers, Path(folder))
    if args.only in (None, "postgresql"):
        server = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
        name = f"kinv_bench_{os.getpid()}"
        admin = sa.create_engine(psycopg_url(server), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            with tempfile.TemporaryDirectory(prefix="kinv-bench-") as folder:
                url = server.rsplit("/", 1)[0] + f"/{name}"
                bench("PostgreSQL", url, args.proofs, args.subscribers, Path(folder))
        finally:
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
