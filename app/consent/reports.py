"""Operators' view of the proof: export every record, daily counts and accept/refuse rates per category."""

import csv
import io
import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.consent.datamap import record_as_dict
from app.consent.models import ConsentRecord, ConsentSubject
from app.consent.services import GPC_SIGNAL, current_register
from app.extensions import db
from app.progress import tracked
from app.retention.register import P8_NECESSARY, P8_PROOF, Action, Outcome, Rule
from app.retention.runner import bulk
from app.spreadsheet import safe_mapping

RETENTION = timedelta(days=5 * 365)


def records_since(since: datetime | None = None):
    """Records in time order, from a date (UTC) when given."""
    query = sa.select(ConsentRecord).order_by(ConsentRecord.recorded_at, ConsentRecord.id)
    if since is not None:
        query = query.where(ConsentRecord.recorded_at >= since)
    return db.session.scalars(query.execution_options(yield_per=1000))


def count_since(since: datetime | None = None) -> int:
    """How many records `records_since` yields."""
    query = sa.select(sa.func.count()).select_from(ConsentRecord)
    if since is not None:
        query = query.where(ConsentRecord.recorded_at >= since)
    return db.session.scalar(query) or 0


def export_rows(since: datetime | None = None) -> list[dict]:
    """Every record as a flat row: one column per category (1 accepted, 0 refused)."""
    keys = [category.key for category in current_register().optional]
    rows = []
    for record in tracked(records_since(since), total=lambda: count_since(since)):
        row = record_as_dict(record)
        choices = row.pop("choices")
        row.update({key: int(bool(choices.get(key))) for key in keys})
        rows.append(row)
    return rows


def export_text(since: datetime | None = None, fmt: str = "csv") -> str:
    """The proof as CSV or JSON text."""
    rows = export_rows(since)
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=1)
    out = io.StringIO()
    fields = list(rows[0]) if rows else ["consent_id", "recorded_at"]
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(safe_mapping(row) for row in rows)
    return out.getvalue()


def daily_stats(since: datetime | None = None) -> list[dict]:
    """Per UTC day: records, GPC signals, and per category the share of choices that accept and refuse it."""
    keys = [category.key for category in current_register().optional]
    days: dict[str, dict] = defaultdict(lambda: {"records": 0, "gpc_signals": 0, "choices": 0,
                                                 "accepted": dict.fromkeys(keys, 0)})
    for record in records_since(since):
        day = days[record.recorded_at.astimezone(UTC).date().isoformat()]
        day["records"] += 1
        if record.action == GPC_SIGNAL:
            day["gpc_signals"] += 1
            continue
        day["choices"] += 1
        for key in keys:
            day["accepted"][key] += bool(record.choices.get(key))
    return [{"day": name, "records": day["records"], "gpc_signals": day["gpc_signals"], "choices": day["choices"],
             "accepted": day["accepted"], "rates": {key: rates(day["accepted"][key], day["choices"]) for key in keys}}
            for name, day in sorted(days.items())]


def period_total(days: list[dict]) -> dict:
    """The days added up: records, choices, GPC signals, and the accept/refuse rates over the whole period."""
    keys = list(days[0]["rates"]) if days else []
    choices = sum(day["choices"] for day in days)
    accepted = {key: sum(day["accepted"][key] for day in days) for key in keys}
    return {"day": "total", "records": sum(day["records"] for day in days), "choices": choices,
            "gpc_signals": sum(day["gpc_signals"] for day in days), "accepted": accepted,
            "rates": {key: rates(accepted[key], choices) for key in keys}}


def rates(accepted: int, total: int) -> dict[str, float]:
    """Accept and refuse shares (0 to 1, rounded)."""
    if not total:
        return {"accept": 0.0, "refuse": 0.0}
    return {"accept": round(accepted / total, 4), "refuse": round(1 - accepted / total, 4)}


def purge_expired(now: datetime) -> Outcome:
    """Delete proof older than the 5-year retention (the only deletion of consent records); caller commits."""
    return bulk(sa.delete(ConsentRecord).where(ConsentRecord.recorded_at < now - RETENTION))


def unlink_orphans(now: datetime) -> Outcome:
    """Delete the links from a person to a consent id whose proof is all gone: nothing of them is left there."""
    proof = sa.select(ConsentRecord.id).where(ConsentRecord.consent_id == ConsentSubject.consent_id)
    return bulk(sa.delete(ConsentSubject).where(~proof.exists()))


# What this feature adds to the retention register (registered in create_app, run in this order).
RULES = (
    Rule("preuves_consentement", ("consent_records",),
         _l("Preuves des choix de cookies (pseudonymes : identifiant de consentement, IP tronquée, navigateur)"),
         RETENTION, _l("5 ans"), _l("l’enregistrement du choix"), Action.DELETE, (P8_PROOF,), purge_expired),
    Rule("liens_consentement", ("consent_subjects",), _l("Liens entre une adresse et un identifiant de consentement"),
         RETENTION, _l("5 ans"), _l("le dernier choix lié (ou l’effacement de l’abonné)"), Action.ANONYMISE,
         (P8_NECESSARY,), unlink_orphans),
)
