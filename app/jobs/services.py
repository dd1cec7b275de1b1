"""Running scheduled jobs: claim a due job with a lease (a conditional UPDATE, atomic on SQLite and PostgreSQL alike),
run it, record the result and the next run; a failure is recorded and mailed to every dpo."""

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from app.auth.services import dpo_addresses
from app.database import utcnow
from app.extensions import db
from app.jobs.models import ScheduledJob
from app.jobs.schedule import Job
from app.mail.services import queue_mail

OWNER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"  # this scheduler, in lease rows


@dataclass(frozen=True)
class JobRun:
    """What happened to one job in one pass."""

    name: str
    ok: bool
    result: str


def ensure_rows(jobs: list[Job], now: datetime) -> None:
    """Give each job its row the first time (first run: the next slot of its schedule, or now for intervals)."""
    known = set(db.session.scalars(sa.select(ScheduledJob.name)))
    for job in jobs:
        if job.name in known:
            continue
        first = now if hasattr(job.when, "interval") else job.when.next_after(now)
        try:
            db.session.add(ScheduledJob(name=job.name, next_run_at=first))
            db.session.commit()
        except sa.exc.IntegrityError:  # another scheduler made it first
            db.session.rollback()


def claim(job: Job, now: datetime) -> bool:
    """Take the job's lease if it is due and nobody holds it; one scheduler wins, the others see 0 rows."""
    result = db.session.execute(sa.update(ScheduledJob).where(
        ScheduledJob.name == job.name, ScheduledJob.next_run_at <= now,
        sa.or_(ScheduledJob.lease_until.is_(None), ScheduledJob.lease_until < now),
    ).values(lease_owner=OWNER, lease_until=now + job.lease, last_started_at=now))
    db.session.commit()
    return result.rowcount == 1


def finish(job: Job, started: datetime, ok: bool, result: str) -> None:
    """Record the run, then, if the lease is still this scheduler's, set the next run after its start and release
    it (a run longer than its lease may have let another scheduler in: its outcome is kept, its lease left alone)."""
    outcome = {"last_finished_at": utcnow(), "last_ok": ok, "last_result": result[:300]}
    if not ok:
        outcome["failures"] = ScheduledJob.failures + 1
    this_job = ScheduledJob.name == job.name
    db.session.execute(sa.update(ScheduledJob).where(this_job).values(**outcome))
    db.session.execute(sa.update(ScheduledJob).where(this_job, ScheduledJob.lease_owner == OWNER).values(
        lease_owner=None, lease_until=None, next_run_at=job.when.next_after(started)))
    db.session.commit()


def run_one(job: Job, now: datetime) -> JobRun | None:
    """Run the job if this scheduler wins it; None when it was not due or someone else holds it."""
    if not claim(job, now):
        return None
    try:
        result, ok = job.run(now), True
    except Exception as error:  # a job's failure must not stop the scheduler: it is recorded and mailed
        db.session.rollback()
        result, ok = f"failed: {type(error).__name__}", False
        current_app.logger.error("job %s failed: %s", job.name, type(error).__name__)
    finish(job, now, ok, result)
    if not ok:
        tell_dpos(job, now, result)
    return JobRun(job.name, ok, result)


def run_due(jobs: list[Job], now: datetime | None = None) -> list[JobRun]:
    """One pass: every due job this scheduler can claim."""
    now = now or utcnow()
    ensure_rows(jobs, now)
    runs = [run_one(job, now) for job in jobs]
    return [run for run in runs if run is not None]


def tell_dpos(job: Job, now: datetime, result: str) -> None:
    """Mail every dpo that a job failed (through the outbox, in its own transaction)."""
    try:
        with force_locale("fr"):
            subject = _("Tâche planifiée en échec\u00a0: %(job)s", job=job.name)
            text = render_template("jobs/failed.txt", job=job.name, when=now, result=result)
        for address in dpo_addresses():
            queue_mail(address, subject, text, kind="staff")
        db.session.commit()
    except sa.exc.SQLAlchemyError as error:  # the database itself is what failed: the log says so
        db.session.rollback()
        current_app.logger.error("could not mail the dpo about job %s: %s", job.name, type(error).__name__)


def job_states(jobs: list[Job]) -> list[tuple[Job, ScheduledJob | None]]:
    """Each job with its stored state (None before its first pass)."""
    rows = {row.name: row for row in db.session.scalars(sa.select(ScheduledJob))}
    return [(job, rows.get(job.name)) for job in jobs]
