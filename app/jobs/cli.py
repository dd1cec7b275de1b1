"""`flask jobs run` (the scheduler: run it next to the web server) and `flask jobs list`."""

import time

import click
from flask import current_app
from flask.cli import AppGroup

from app.extensions import db
from app.jobs.registry import JOBS
from app.jobs.services import job_states, run_due

jobs = AppGroup("jobs", help="The scheduler of the outbox worker, retention, reminders and backups.")


def when(moment) -> str:
    """A stored time as short UTC text."""
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "never"


@jobs.command("run")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between passes.")
@click.option("--passes", default=0, help="Stop after this many passes (0: never).")
@click.option("--only", multiple=True, type=click.Choice([job.name for job in JOBS]), help="Only this job.")
def run(interval: float, passes: int, only: tuple[str, ...]) -> None:
    """Run every job when due; several schedulers may run at once, each job runs once per slot."""
    selected = [job for job in JOBS if not only or job.name in only]
    done = 0
    while not passes or done < passes:
        one_pass(selected)
        done += 1
        if not passes or done < passes:
            time.sleep(interval)


def one_pass(selected) -> None:
    """One pass; a pass that cannot run at all (database gone) is reported and the next one tries again."""
    try:
        for job_run in run_due(selected):
            if job_run.name != "outbox" or not job_run.ok or not job_run.result.startswith("sent 0, to retry 0"):
                click.echo(f"{job_run.name}: {'ok' if job_run.ok else 'FAILED'} - {job_run.result}")
    except Exception as error:  # the scheduler outlives the pass
        db.session.rollback()
        current_app.logger.error("scheduler pass stopped: %s", type(error).__name__)
        click.echo(f"pass stopped: {type(error).__name__}", err=True)


@jobs.command("list")
def list_jobs() -> None:
    """Each job: its schedule, last run and result, next run."""
    for job, state in job_states(JOBS):
        if state is None:
            click.echo(f"{job.name} ({job.when}): never run")
            continue
        outcome = "running" if state.lease_owner else ("ok" if state.last_ok else "FAILED" if state.last_ok is False
                                                       else "-")
        click.echo(f"{job.name} ({job.when}): last run {when(state.last_started_at)} {outcome}"
                   f" - {state.last_result or ''}; next run {when(state.next_run_at)}")
