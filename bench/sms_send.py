"""Benchmark: `flask sms send` queuing 100,000 SMS (proven, consenting numbers), on SQLite and PostgreSQL.

Creates its own data: a scratch SQLite file, and a dedicated schema in the PostgreSQL database of
BENCH_POSTGRESQL_URL (default postgresql://127.0.0.1:5432/test) that it drops afterwards.
Usage: `.venv/bin/python bench/sms_send.py [--recipients N] [--only sqlite|postgresql]`.
"""

import argparse
import sys
import time
import uuid

import sqlalchemy as sa
from _scratch import (  # sets up the environment before the app is imported
    each_database,
    migrate_scratch,
    release_scratch,
)

from app import create_app
from app.config import Config
from app.database import utcnow
from app.extensions import db
from app.newsletter.models import Subscriber, Subscription
from app.newsletter.sms import send_sms_campaign
from app.personal import keyed_hash
from app.sms.models import SmsMessage
from app.suppression.models import Suppression

SLUG = "evenements"
SUPPRESSED_EVERY = 20  # one number in 20 said STOP
TEXT = "Salon de Lyon le 12 décembre : venez découvrir la nouvelle version de K-Inventory, stand B4."


def populate(recipients: int) -> None:
    """Subscribers of the list with a proven, consented number; one in 20 on the SMS opt-out list."""
    now = utcnow()
    for start in range(0, recipients, 10_000):
        people, lists, optouts = [], [], []
        for number in range(start + 1, min(start + 10_000, recipients) + 1):
            phone = f"+336{number:08d}"
            hashed = keyed_hash(phone)
            people.append({"id": number, "public_id": uuid.uuid4().hex, "email": f"abonne{number}@example.com",
                           "email_hash": keyed_hash(f"abonne{number}@example.com"), "phone": phone,
                           "phone_hash": hashed, "language": "fr", "email_status": "confirmed",
                           "sms_status": "confirmed", "sms_consent_at": now, "sms_consent_source": "sms_code",
                           "sms_proven_at": now, "sms_proof_source": "sms_code", "created_at": now,
                           "updated_at": now})
            lists.append({"subscriber_id": number, "list_slug": SLUG, "status": "active", "requested_at": now,
                          "consented_at": now, "consent_source": "double_opt_in"})
            if number % SUPPRESSED_EVERY == 0:
                optouts.append({"channel": "sms", "identifier_hash": hashed, "reason": "opt_out", "source": "bench",
                                "created_at": now})
        db.session.execute(sa.insert(Subscriber.__table__), people)
        db.session.execute(sa.insert(Subscription.__table__), lists)
        db.session.execute(sa.insert(Suppression.__table__), optouts)
    db.session.commit()


def run(name: str, url: str, recipients: int, setup=None, teardown=None) -> None:
    """Migrate, fill, then time one SMS send."""
    config = Config()
    config.SQLALCHEMY_DATABASE_URI, config.SITE_URL = url, "https://www.k-inventory.com"
    config.SMS_STOP_NUMBER = "36111"
    app = create_app(config)
    with app.app_context():
        try:
            migrate_scratch(setup)
            populate(recipients)
            started = time.perf_counter()
            report = send_sms_campaign(SLUG, TEXT)
            elapsed = time.perf_counter() - started
            rows = db.session.scalar(sa.select(sa.func.count()).select_from(SmsMessage))
            assert rows == report.queued == recipients - recipients // SUPPRESSED_EVERY, (rows, report)
            body = db.session.scalar(sa.select(SmsMessage.body).limit(1))
            assert body.startswith("K-Inventory\u00a0: ") and body.endswith("STOP au 36111")
            print(f"{name}: {report.queued:,} SMS queued ({report.suppressed:,} held back by the opt-out list) "
                  f"in {elapsed:.2f} s = {report.queued / elapsed:,.0f} SMS/s", flush=True)
        finally:
            release_scratch(teardown)


def main() -> int:
    """Run the benchmark on each database."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    for label, url, setup, teardown in each_database("sms", args.only):
        run(label, url, args.recipients, setup, teardown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
