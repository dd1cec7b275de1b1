"""Benchmark: `flask newsletter send` enqueuing 100,000 recipients, on SQLite and on PostgreSQL.

Creates its own data: a scratch SQLite file, and a dedicated schema in the PostgreSQL database `test`
that it drops afterwards.
Usage: `.venv/bin/python bench/newsletter_send.py [--recipients N] [--only sqlite|postgresql]`.
"""

import argparse
import os
import secrets
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("INSTANCE_PATH", tempfile.mkdtemp(prefix="kinv-bench-instance-"))
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(48))
os.environ.setdefault("HASH_KEY", secrets.token_urlsafe(48))

import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from app import create_app  # noqa: E402
from app.config import Config  # noqa: E402
from app.database import utcnow  # noqa: E402
from app.extensions import db  # noqa: E402
from app.mail.models import OutboxMessage  # noqa: E402
from app.mail.services import build_email  # noqa: E402
from app.newsletter.campaigns import send_campaign  # noqa: E402
from app.newsletter.models import Subscriber, Subscription  # noqa: E402
from app.personal import keyed_hash  # noqa: E402
from app.suppression.models import Suppression  # noqa: E402

SLUG = "actualites-produit"
SUPPRESSED_EVERY = 20  # one subscriber in 20 is on the opt-out list
TEXT = "Bonjour,\n\n" + "Voici les nouveautés de K-Inventory ce mois-ci.\n" * 20
HTML = ("<html><body><h1>Nouveautés</h1>" + "<p>Voici les nouveautés de K-Inventory ce mois-ci.</p>" * 20
        + "</body></html>")


def bench_app(url: str):
    """The app on a scratch database, migrated."""
    config = Config()
    config.SQLALCHEMY_DATABASE_URI = url
    config.SITE_URL = "https://www.k-inventory.com"
    config.UNSUBSCRIBE_MAILTO = "desabonnement@k-inventory.com"
    app = create_app(config)
    return app


def populate(recipients: int) -> None:
    """Confirmed subscribers of the list, one in 20 also on the opt-out list."""
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


def check_a_message() -> None:
    """One queued row turns into a complete e-mail: links, List-Unsubscribe, one-click, List-Id."""
    message = db.session.scalar(sa.select(OutboxMessage).order_by(OutboxMessage.id).limit(1))
    email = build_email(message, "K-Inventory <no-reply@k-inventory.com>")
    assert email["List-Unsubscribe"].startswith("<https://www.k-inventory.com/newsletter/desabonnement/")
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click" and email["List-Id"]
    assert "/newsletter/preferences/" in message.body_text and "/newsletter/desabonnement/" in message.body_html


def run(name: str, url: str, recipients: int, setup=None, teardown=None) -> None:
    """Migrate, fill, then time one send."""
    app = bench_app(url)
    with app.app_context():
        try:
            if setup:
                setup(db.engine)
            upgrade(directory=str(ROOT / "migrations"), revision="heads")
            started = time.perf_counter()
            populate(recipients)
            filled = time.perf_counter() - started
            started = time.perf_counter()
            report = send_campaign(SLUG, "Nouveautés de novembre", TEXT, HTML)
            elapsed = time.perf_counter() - started
            rows = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
            assert rows == report.queued == recipients - recipients // SUPPRESSED_EVERY, (rows, report)
            check_a_message()
            print(f"{name}: {report.queued:,} messages queued ({report.suppressed:,} held back by the opt-out "
                  f"list) in {elapsed:.2f} s = {report.queued / elapsed:,.0f} messages/s "
                  f"(test data written in {filled:.1f} s)", flush=True)
        finally:
            db.session.remove()
            if teardown:
                teardown(db.engine)
            db.engine.dispose()


def main() -> int:
    """Run the benchmark on each database."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    if args.only in (None, "sqlite"):
        with tempfile.TemporaryDirectory(prefix="kinv-bench-") as folder:
            run("SQLite", f"sqlite:///{Path(folder) / 'bench.sqlite'}", args.recipients)
    if args.only in (None, "postgresql"):
        schema = f"bench_newsletter_{os.getpid()}"

        def create_schema(engine):
            with engine.begin() as connection:
                connection.execute(sa.text(f"CREATE SCHEMA {schema}"))

        def drop_schema(engine):
            with engine.begin() as connection:
                connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))

        url = f"postgresql+psycopg://127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
        run("PostgreSQL", url, args.recipients, create_schema, drop_schema)
    return 0


if __name__ == "__main__":
    sys.exit(main())
