"""`flask retention run`: each rule of the register in its own transaction, a report per rule, an audit row each."""

import time
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app

from app.database import utcnow
from app.extensions import db
from app.retention.models import RetentionRun
from app.retention.register import Outcome, Rule, all_rules


@dataclass(frozen=True)
class RuleReport:
    """One rule's result in a run."""

    rule: str
    matched: int
    acted: int
    seconds: float
    error: str | None = None

    def line(self) -> str:
        """One line for the command's output (counts only, never a name or an address)."""
        if self.error:
            return f"{self.rule}: FAILED ({self.error}), nothing changed"
        return f"{self.rule}: matched {self.matched}, acted on {self.acted} ({self.seconds:.2f} s)"


def bulk(statement) -> Outcome:
    """Run one set-based UPDATE or DELETE of a rule: the rows it touched are the rows it matched."""
    count = db.session.execute(statement, execution_options={"synchronize_session": False}).rowcount or 0
    return Outcome(count, count)


def run_rules(now: datetime | None = None, *, dry_run: bool = False, only: tuple[str, ...] = ()) -> list[RuleReport]:
    """Apply every rule (or the named ones) as of `now`; a dry run rolls each rule back and reports what it would do."""
    now = now or utcnow()
    unknown = set(only) - {rule.key for rule in all_rules()}
    if unknown:
        raise KeyError(f"unknown rule(s): {', '.join(sorted(unknown))}")
    rules = [rule for rule in all_rules() if rule.runs and (not only or rule.key in only)]
    return [apply_rule(rule, now, dry_run) for rule in rules]


def apply_rule(rule: Rule, now: datetime, dry_run: bool) -> RuleReport:
    """One rule in one transaction, then its audit row in another (a failed rule is audited too)."""
    started = time.perf_counter()
    try:
        outcome: Outcome = rule.apply(now)
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
        report = RuleReport(rule.key, outcome.matched, outcome.acted, time.perf_counter() - started)
    except Exception as error:  # any failure undoes this rule's transaction only; the other rules still run
        db.session.rollback()
        current_app.logger.error("retention rule %s failed: %s", rule.key, type(error).__name__)
        report = RuleReport(rule.key, 0, 0, time.perf_counter() - started, type(error).__name__)
    audit(report, now, dry_run)
    return report


def audit(report: RuleReport, now: datetime, dry_run: bool) -> None:
    """Record the rule's run (committed on its own)."""
    db.session.add(RetentionRun(rule=report.rule, as_of=now, dry_run=dry_run, matched=report.matched,
                                acted=report.acted, ok=report.error is None, error=report.error,
                                duration_ms=int(report.seconds * 1000)))
    db.session.commit()


def last_runs() -> dict[str, RetentionRun]:
    """The latest real (not dry) run of each rule."""
    latest = (sa.select(RetentionRun.rule, sa.func.max(RetentionRun.id).label("id"))
              .where(RetentionRun.dry_run.is_(False)).group_by(RetentionRun.rule).subquery())
    rows = db.session.scalars(sa.select(RetentionRun).join(latest, latest.c.id == RetentionRun.id))
    return {row.rule: row for row in rows}
