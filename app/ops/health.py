"""`/healthz` (the process answers) and `/readyz` (the database, its migrations, the outbox, the scheduler's
heartbeat: details for /metrics' scrapers only), as JSON."""

from datetime import datetime
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
from flask import current_app, jsonify

from app.database import utcnow
from app.extensions import db, limiter
from app.jobs.models import ScheduledJob
from app.mail.models import OutboxMessage, OutboxStatus
from app.ops import bp, metrics

MIGRATIONS = Path(__file__).resolve().parent.parent.parent / "migrations"


@lru_cache(maxsize=1)
def expected_heads() -> frozenset[str]:
    """The head revisions of the migrations shipped with this code (read once)."""
    from alembic.script import ScriptDirectory  # alembic is loaded by the first /readyz, not by every process

    return frozenset(ScriptDirectory(str(MIGRATIONS)).get_heads())


def database_heads(connection: sa.Connection) -> frozenset[str]:
    """The revisions the database says it is at."""
    from alembic.migration import MigrationContext

    return frozenset(MigrationContext.configure(connection).get_current_heads())


def oldest_pending_age(connection: sa.Connection, now: datetime) -> float | None:
    """Seconds since the oldest message still waiting in the outbox was queued (None when none waits)."""
    oldest = connection.execute(sa.select(sa.func.min(OutboxMessage.created_at))
                                .where(OutboxMessage.status == OutboxStatus.PENDING)).scalar()
    if oldest is None:
        return None
    return round((now - oldest).total_seconds(), 1)


def scheduler_silence(connection: sa.Connection, now: datetime) -> float | None:
    """Seconds since the scheduler last finished a job (None when no scheduler ever ran: there is none yet)."""
    last = connection.execute(sa.select(sa.func.max(ScheduledJob.last_finished_at))).scalar()
    if last is None:
        return None
    if last.tzinfo is None:  # SQLite hands back naive UTC from an aggregate
        last = last.replace(tzinfo=now.tzinfo)
    return round((now - last).total_seconds(), 1)


def readiness() -> tuple[dict, bool]:
    """Each check's result, and whether the site can serve: the database answers and is at the code's migrations."""
    checks: dict = {"database": {"ok": False}, "migrations": {"ok": False}, "outbox": {"ok": False}}
    try:
        with db.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
            checks["database"] = {"ok": True}
            current, expected = database_heads(connection), expected_heads()
            checks["migrations"] = {"ok": current == expected, "current": sorted(current), "expected": sorted(expected)}
            age = oldest_pending_age(connection, utcnow())
            limit = current_app.config["READY_OUTBOX_MAX_AGE"]
            checks["outbox"] = {"ok": age is None or age <= limit, "oldest_pending_seconds": age, "limit": limit}
            silence = scheduler_silence(connection, utcnow())
            quiet_limit = current_app.config["READY_SCHEDULER_MAX_SILENCE"]
            checks["scheduler"] = {"ok": silence is None or silence <= quiet_limit, "running": silence is not None,
                                   "last_job_finished_seconds_ago": silence, "limit": quiet_limit}
    except sa.exc.SQLAlchemyError as error:
        checks["database"] = {"ok": False, "error": type(error).__name__}
    return checks, checks["database"]["ok"] and checks["migrations"]["ok"]


@bp.route("/healthz")
@limiter.exempt
def healthz():
    """The process is up and answers."""
    return jsonify(status="ok")


@bp.route("/readyz")
@limiter.exempt
def readyz():
    """200 when the site can serve requests, 503 otherwise; the checks (migrations, the outbox's backlog, a silent
    scheduler: reported, not fatal) only for those allowed to read /metrics."""
    checks, ready = readiness()
    details = {"checks": checks} if metrics.allowed() else {}
    return jsonify(status="ready" if ready else "unavailable", **details), 200 if ready else 503
