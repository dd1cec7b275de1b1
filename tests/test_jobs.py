"""The scheduler: daily slots in Paris time, leases so two schedulers never run a job twice, failures mailed."""

import os
import subprocess
import sys
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import sqlalchemy as sa

from app.auth.services import create_staff
from app.extensions import db
from app.jobs.models import ScheduledJob
from app.jobs.registry import JOBS
from app.jobs.schedule import DailyAt, Every, Job
from app.jobs.services import ensure_rows, run_due
from app.mail.services import queue_mail
from app.retention.models import RetentionRun
from tests.conftest import TEST_DATABASE_URL, deliver_mail

ROOT = Path(__file__).resolve().parent.parent
AT_3 = DailyAt(time(3, 0))


def test_daily_slots_follow_paris_time_through_daylight_saving():
    assert AT_3.next_after(datetime(2027, 1, 10, 1, 0, tzinfo=UTC)) == datetime(2027, 1, 10, 2, 0, tzinfo=UTC)
    assert AT_3.next_after(datetime(2027, 1, 10, 2, 0, tzinfo=UTC)) == datetime(2027, 1, 11, 2, 0, tzinfo=UTC)
    assert AT_3.next_after(datetime(2027, 7, 10, 0, 30, tzinfo=UTC)) == datetime(2027, 7, 10, 1, 0, tzinfo=UTC)
    # 28 March 2027: clocks go forward at 02:00 in Paris; 03:00 exists and is 01:00 UTC.
    assert AT_3.next_after(datetime(2027, 3, 27, 12, 0, tzinfo=UTC)) == datetime(2027, 3, 28, 1, 0, tzinfo=UTC)


def test_a_pass_runs_what_is_due_and_the_list_shows_each_job(app, runner, mailbox):
    queue_mail("lecteur@example.com", "Bonjour", "Texte")
    db.session.commit()
    runs = run_due(JOBS)
    assert [(r.name, r.ok) for r in runs] == [("outbox", True), ("sms", True), ("connectors", True),
                                             ("rights-expire", True)]
    assert mailbox.to("lecteur@example.com"), "the outbox job delivered the mail"
    assert run_due(JOBS) == [], "nothing is due again at once"
    listing = runner.invoke(args=["jobs", "list"]).output
    assert "outbox (every 5 s): last run" in listing and "ok - sent 1, to retry 0, failed 0" in listing
    assert "retention (daily at 03:00 Paris): last run never" in listing and "next run" in listing


def test_a_job_another_scheduler_holds_is_left_alone(app):
    ensure_rows(JOBS, datetime.now(UTC))
    db.session.execute(sa.update(ScheduledJob).values(lease_owner="other", next_run_at=datetime.now(UTC) - timedelta(
        minutes=1), lease_until=datetime.now(UTC) + timedelta(minutes=5)))
    db.session.commit()
    assert run_due(JOBS) == []


def taken_over(_now: datetime) -> str:
    """A job that runs past its lease: another scheduler takes the job meanwhile."""
    db.session.execute(sa.update(ScheduledJob).where(ScheduledJob.name == "slow").values(
        lease_owner="other", lease_until=datetime.now(UTC) + timedelta(minutes=5)))
    db.session.commit()
    return "done 3"


def test_a_run_longer_than_its_lease_keeps_its_outcome_and_leaves_the_new_lease_alone(app):
    slow = Job("slow", Every(timedelta(seconds=5)), taken_over, lease=timedelta(seconds=45))
    ensure_rows([slow], datetime.now(UTC) - timedelta(minutes=1))
    assert [(run.name, run.ok) for run in run_due([slow])] == [("slow", True)]
    row = db.session.scalars(sa.select(ScheduledJob).where(ScheduledJob.name == "slow")).one()
    assert (row.last_ok, row.last_result) == (True, "done 3"), "the run's outcome is recorded"
    assert row.lease_owner == "other", "the other scheduler's lease stands"


def boom(_now: datetime) -> str:
    """A job that fails."""
    raise ZeroDivisionError("division by zero")


def test_a_failed_job_is_recorded_and_mailed_to_every_dpo(app, runner, mailbox):
    create_staff("dpo@k-inventory.com", "correct horse battery staple", "dpo")
    create_staff("agent@k-inventory.com", "correct horse battery staple", "agent")
    [result] = run_due([Job("boom", Every(timedelta(minutes=1)), boom)])
    assert (result.ok, result.result) == (False, "failed: ZeroDivisionError")
    state = db.session.get(ScheduledJob, "boom")
    assert (state.last_ok, state.failures, state.lease_owner) == (False, 1, None)
    assert state.next_run_at > datetime.now(UTC)
    deliver_mail()
    [message] = mailbox.to("dpo@k-inventory.com")
    assert "Tâche planifiée en échec" in message["Subject"] and "boom" in message.get_content()
    assert not mailbox.to("agent@k-inventory.com")


def scheduler() -> subprocess.Popen:
    """`flask jobs run` in its own process, on the test database, retention only."""
    env = {**os.environ, "DATABASE_URL": TEST_DATABASE_URL, "FLASK_APP": "wsgi:app"}
    return subprocess.Popen([str(Path(sys.executable).parent / "flask"), "jobs", "run", "--only", "retention",
                             "--passes", "4", "--interval", "0.3"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_schedulers_at_once_run_the_retention_job_once(app):
    ensure_rows(JOBS, datetime.now(UTC))
    db.session.execute(sa.update(ScheduledJob).where(ScheduledJob.name == "retention").values(
        next_run_at=datetime.now(UTC) - timedelta(minutes=1)))
    db.session.commit()
    first, second = scheduler(), scheduler()
    outputs = [process.communicate(timeout=120) for process in (first, second)]
    assert [process.returncode for process in (first, second)] == [0, 0], outputs
    assert sum(out.count("retention: ok") for out, _err in outputs) == 1, outputs
    db.session.expire_all()
    audits = db.session.scalar(sa.select(sa.func.count()).select_from(RetentionRun).where(
        RetentionRun.rule == "preuves_consentement"))
    assert audits == 1
    state = db.session.get(ScheduledJob, "retention")
    assert state.last_ok and state.next_run_at == AT_3.next_after(state.last_started_at)
