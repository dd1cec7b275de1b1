"""The jobs `flask jobs run` runs, and when: the mail, SMS and connected-systems workers, backup at 02:30 and
retention at 03:00 (Paris), reminders at 08:00, expiry every hour, the cookie scan weekly (SCAN_SCHEDULE)."""

from datetime import datetime, time, timedelta

from flask import current_app

from app.backup import services as backups
from app.backup.crypto import BackupKeyError, recipients, signing_key
from app.claims import LEASE
from app.connectors import services as connectors
from app.jobs.schedule import DailyAt, Every, Job, WeeklyAt
from app.mail.services import deliver_due
from app.retention.runner import RuleReport, run_rules
from app.rights.maintenance import remind_staff
from app.scanner.services import run_scan
from app.sms import services as sms

EXPIRY_RULES = ("demandes_non_confirmees", "dossiers_donnees")  # what `flask rights expire` runs


class RulesFailed(RuntimeError):
    """Some retention rules failed (the others were applied and committed)."""


def deliver_mail(_now: datetime) -> str:
    """One pass of the outbox worker (the same function `flask outbox send` calls)."""
    report = deliver_due()
    return f"sent {report.sent}, to retry {report.retried}, failed {report.failed}"


def deliver_sms(_now: datetime) -> str:
    """One pass of the SMS worker (the same function `flask sms deliver` calls)."""
    report = sms.deliver_due()
    return f"sent {report.sent}, to retry {report.retried}, failed {report.failed}"


def ask_connected_systems(_now: datetime) -> str:
    """One pass of the connected-systems worker (the same function `flask connectors send` calls)."""
    report = connectors.deliver_due()
    return f"sent {report.sent}, to retry {report.retried}, failed {report.failed}"


def summary(reports: list[RuleReport]) -> str:
    """Rules run, rows acted on; raises when a rule failed so the job is recorded as failed."""
    failed = [report.rule for report in reports if report.error]
    if failed:
        raise RulesFailed(", ".join(failed))
    return f"{len(reports)} rules, {sum(report.acted for report in reports)} rows acted on"


def retention(now: datetime) -> str:
    """Every rule of the retention register."""
    return summary(run_rules(now))


def rights_expire(now: datetime) -> str:
    """Requests unconfirmed after 30 days closed, data packages past 7 days emptied."""
    return summary(run_rules(now, only=EXPIRY_RULES))


def rights_remind(_now: datetime) -> str:
    """The staff's daily e-mail of requests due within 7 days or overdue."""
    report = remind_staff()
    return f"{report.requests} requests due, {report.recipients} staff told"


def backup(now: datetime) -> str:
    """Tonight's encrypted backup, then backups over 90 days old deleted; without a key, development skips it."""
    try:
        recipients(current_app.config)
        signing_key(current_app.config)
    except BackupKeyError:
        if current_app.config["APP_ENV"] == "production":
            raise
        return "skipped: set BACKUP_AGE_RECIPIENTS and BACKUP_SIGNING_KEY_FILE (`flask backup keygen`)"
    made = backups.create()
    return f"{made.path.name} ({made.size} bytes); {backups.prune(now)} old backup(s) deleted"


def cookie_scan(_now: datetime) -> str:
    """The weekly cookie scan of SCAN_URLS (the same function `flask cookies scan` calls)."""
    done = run_scan()
    return f"{done.findings} finding(s), {len([f for f in done.report['findings'] if f['new']])} new"


# The outboxes' rows have leases of their own (app.claims): two passes at once never send a row twice, so these jobs'
# leases are as short as the rows', and a scheduler that dies stalls no queue for longer.
JOBS = [
    Job("outbox", Every(timedelta(seconds=5)), deliver_mail, lease=LEASE),
    Job("sms", Every(timedelta(seconds=15)), deliver_sms, lease=LEASE),
    Job("connectors", Every(timedelta(seconds=30)), ask_connected_systems, lease=LEASE),
    Job("retention", DailyAt(time(3, 0)), retention),
    Job("rights-remind", DailyAt(time(8, 0)), rights_remind),
    Job("rights-expire", Every(timedelta(hours=1)), rights_expire),
    Job("backup", DailyAt(time(2, 30)), backup, lease=timedelta(hours=3)),
    Job("cookie-scan", WeeklyAt("SCAN_SCHEDULE"), cookie_scan, lease=timedelta(hours=2)),
]
