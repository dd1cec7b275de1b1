"""Benchmark: the DPO dashboard (`/admin/tableau-de-bord`) with 1,000,000 consent records, on SQLite and PostgreSQL.

Creates its own data: a scratch SQLite file, and a dedicated schema in a PostgreSQL database (BENCH_POSTGRESQL_URL,
default the `test` database) that it drops afterwards. The records are spread evenly over the last 365 days (so
about 230,000 fall in the dashboard's 12 weeks), with 500 rights requests and 20,000 opt-outs.
Usage: `.venv/bin/python bench/dashboard.py [--records N] [--only sqlite|postgresql]`.
"""

import argparse
import re
import statistics
import sys
import time

import pyotp
import sqlalchemy as sa
from _scratch import (  # sets up the environment before the app is imported
    each_database,
    migrate_scratch,
    release_scratch,
)

from app import create_app
from app.auth.services import create_staff
from app.config import Config
from app.extensions import db

PASSWORD = "correct horse battery staple"
YEAR_SECONDS = 365 * 86_400
CHOICES = ('{"analytics": true, "advertising": true, "affiliation": true}',
           '{"analytics": false, "advertising": false, "affiliation": false}',
           '{"analytics": true, "advertising": false, "affiliation": false}',
           '{"analytics": false, "advertising": false, "affiliation": false}',
           '{"analytics": true, "advertising": true, "affiliation": false}')
ACTIONS = ("accept_all", "refuse_all", "custom", "gpc_signal", "custom")
SOURCES = ("one_click", "unsubscribe_page", "sms", "staff", "bounce", "preference_centre")


def case_of(values: tuple[str, ...], cast: str = "") -> str:
    """A SQL CASE picking values[i % len] for the row number i."""
    whens = " ".join(f"WHEN {n} THEN '{value}'{cast}" for n, value in enumerate(values))
    return f"CASE i % {len(values)} {whens} END"


def ago(seconds: str, as_date: bool = False) -> str:
    """SQL for the moment `seconds` (an SQL expression) before now, or its day."""
    if db.engine.dialect.name == "postgresql":
        moment = f"now() - ({seconds}) * interval '1 second'"
        return f"CAST({moment} AS date)" if as_date else moment
    shift = f"printf('%+d seconds', -CAST({seconds} AS INTEGER))"
    return f"date('now', {shift})" if as_date else f"strftime('%Y-%m-%d %H:%M:%f', 'now', {shift})"


def numbers() -> str:
    """SQL rows i = 1 … :count."""
    if db.engine.dialect.name == "postgresql":
        return "FROM generate_series(1, :count) AS i"
    return "FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count) SELECT i FROM n)"


def populate(records: int) -> None:
    """Consent records over the last year, rights requests over the last year, opt-outs over the last 12 weeks."""
    json = "::json" if db.engine.dialect.name == "postgresql" else ""
    db.session.execute(sa.text(
        "INSERT INTO consent_records (consent_id, recorded_at, choices, register_version, action, withdrawal, source,"
        f" channel) SELECT 'c' || i, {ago('i * :step')}, {case_of(CHOICES, json)}, '1', {case_of(ACTIONS)}, false,"
        f" 'banner', 'js' {numbers()}"), {"count": records, "step": YEAR_SECONDS / records})
    db.session.execute(sa.text(
        "INSERT INTO suppressions (channel, identifier_hash, reason, source, created_at)"
        f" SELECT 'email', 'h' || i, 'opt_out', {case_of(SOURCES)}, {ago('i * :step')} {numbers()}"),
        {"count": 20_000, "step": 84 * 86_400 / 20_000})
    statuses = case_of(("answered", "confirmed", "in_progress", "refused"))
    db.session.execute(sa.text(
        "INSERT INTO rights_requests (reference, public_id, kind, status, name, email, message, language,"
        f" received_at, due_on, closed_at) SELECT 'DR-' || i, 'p' || i, 'access', {statuses}, 'Nom',"
        f" 'p' || i || '@example.fr', '', 'fr', {ago('i * :step')}, {ago('i * :step - 30 * 86400', True)},"
        f" {ago('i * :step - (i % 40) * 86400')} {numbers()}"), {"count": 500, "step": YEAR_SECONDS / 500})
    db.session.execute(sa.text("UPDATE rights_requests SET closed_at = NULL"
                               " WHERE status NOT IN ('answered', 'refused')"))
    create_staff("dpo@k-inventory.com", PASSWORD, "dpo")
    db.session.commit()


def csrf_of(page: str) -> str:
    """The CSRF token of a page's form."""
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def log_in(client) -> None:
    """A DPO session on the test client: password, then the second factor enrolled with the page's secret."""
    page = client.get("/admin/connexion").get_data(as_text=True)
    response = client.post("/admin/connexion", data={"csrf_token": csrf_of(page), "email": "dpo@k-inventory.com",
                                                     "password": PASSWORD})
    assert response.headers.get("Location", "").endswith("/admin/activation"), response.status_code
    page = client.get("/admin/activation").get_data(as_text=True)
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', page).group(1)
    response = client.post("/admin/activation", data={"csrf_token": csrf_of(page), "code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200, response.status_code


def time_dashboard(client) -> list[float]:
    """Log in, then render the dashboard eleven times; the seconds each took (outside any app context, so that each
    request has its own, as in production)."""
    log_in(client)
    timings = []
    for _ in range(11):
        started = time.perf_counter()
        response = client.get("/admin/tableau-de-bord")
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
    return timings


def run(name: str, url: str, records: int, setup=None, teardown=None) -> None:
    """Migrate, fill, then time the dashboard (first render, then the median of ten)."""
    config = Config()
    config.SQLALCHEMY_DATABASE_URI = url
    config.WTF_CSRF_ENABLED = True
    app = create_app(config)
    try:
        with app.app_context():
            migrate_scratch(setup)
            started = time.perf_counter()
            populate(records)
            filled = time.perf_counter() - started
            if db.engine.dialect.name == "postgresql":
                with db.engine.begin() as connection:
                    connection.execute(sa.text("ANALYZE"))
            count = db.session.scalar(sa.text("SELECT count(*) FROM consent_records"))
            db.session.remove()
        timings = time_dashboard(app.test_client())
        print(f"{name}: {count:,} consent records; dashboard first render {timings[0] * 1000:.0f} ms, "
              f"median of the next ten {statistics.median(timings[1:]) * 1000:.0f} ms "
              f"(test data written in {filled:.1f} s)", flush=True)
    finally:
        with app.app_context():
            release_scratch(teardown)


def main() -> int:
    """Run the benchmark on each database."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    for label, url, setup, teardown in each_database("dashboard", args.only):
        run(label, url, args.records, setup, teardown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
