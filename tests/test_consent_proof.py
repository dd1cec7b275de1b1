"""Proof of every choice: the append-only table, the export and stats commands, the shared helpers, the data map."""

import csv
import io
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.consent.models import ConsentRecord, ConsentSubject
from app.consent.register import REGISTER
from app.consent.services import browser_family, current_consent_id, link_consent_to_person
from app.database import AppendOnlyError
from app.datamap import Person, covered_models, data_map, erase_person, export_person
from app.extensions import db
from app.personal import truncate_ip
from tests.support.consent import CHOOSE_URL, all_choices, choose, give_cookie, records, save_preferences

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


@pytest.mark.parametrize(("address", "prefix"), [
    ("203.0.113.77", "203.0.113.0/24"),
    ("10.1.2.255", "10.1.2.0/24"),
    ("2001:db8:abcd:12:3456::1", "2001:db8:abcd::/48"),
    ("::ffff:198.51.100.9", "198.51.100.0/24"),
    ("not-an-ip", None),
    (None, None),
])
def test_ip_is_truncated(address, prefix):
    assert truncate_ip(address) == prefix


@pytest.mark.parametrize(("agent", "family"), [(FIREFOX, "Firefox"), ("", None), (None, None)])
def test_browser_family_only(agent, family):
    assert browser_family(agent) == family


@pytest.mark.parametrize(("remote", "prefix"), [("203.0.113.77", "203.0.113.0/24"),
                                                ("2001:db8:abcd:12::7", "2001:db8:abcd::/48")])
def test_record_holds_the_proof_and_no_full_ip(client, policy, remote, prefix):
    choose(client, "accept_all", environ_base={"REMOTE_ADDR": remote}, headers={"User-Agent": FIREFOX})
    [record] = records()
    assert uuid.UUID(record.consent_id).version == 4
    assert record.recorded_at.tzinfo is not None
    assert abs((record.recorded_at - datetime.now(UTC)).total_seconds()) < 60
    assert record.choices == all_choices(True)
    assert record.register_version == REGISTER.version and record.policy_version == 1
    assert (record.action, record.source, record.channel, record.withdrawal) == ("accept_all", "banner", "no-js", False)
    assert record.ip_prefix == prefix and record.browser == "Firefox"
    stored = " ".join(str(getattr(record, column.name)) for column in ConsentRecord.__table__.columns)
    assert remote not in stored and FIREFOX not in stored


def test_every_change_is_appended_under_the_same_consent_id(client, policy):
    choose(client, "accept_all")
    save_preferences(client, categories=["analytics"])
    save_preferences(client, choice="refuse_all")
    save_preferences(client, choice="accept_all")
    found = records()
    assert [r.action for r in found] == ["accept_all", "custom", "refuse_all", "accept_all"]
    assert [r.withdrawal for r in found] == [False, True, True, False]
    assert len({r.consent_id for r in found}) == 1


def test_records_are_append_only(app, client, policy):
    choose(client, "refuse_all")
    [record] = records()
    record.choices = all_choices(True)
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()
    [record] = records()
    db.session.delete(record)
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()
    assert records()[0].choices == all_choices(False)


def test_current_consent_id_reads_the_signed_cookie(app, client, policy):
    assert current_consent_id() is None  # no request
    with app.test_request_context("/"):
        assert current_consent_id() is None
    choose(client, "refuse_all")
    cookie = client.get_cookie("kinv_consent").value
    with app.test_request_context("/", headers={"Cookie": f"kinv_consent={cookie}"}):
        assert current_consent_id() == records()[0].consent_id
    with app.test_request_context("/", headers={"Cookie": f"kinv_consent={cookie[:-3]}xyz"}):
        assert current_consent_id() is None


def test_link_then_export_and_erase_through_the_data_map(app, client, policy):
    choose(client, "accept_all")
    save_preferences(client, choice="refuse_all")
    consent_id = records()[0].consent_id
    link = link_consent_to_person(consent_id, "  Alice@Example.COM ")
    again = link_consent_to_person(consent_id, "alice@example.com")
    db.session.commit()
    assert link is again and db.session.scalar(sa.select(sa.func.count()).select_from(ConsentSubject)) == 1
    assert "alice" not in link.email_hash.lower()

    exported = export_person(Person(email="alice@example.com"))["consentements_cookies"]
    assert [row["action"] for row in exported] == ["accept_all", "refuse_all"]
    assert exported[0]["consent_id"] == consent_id and exported[0]["choices"] == all_choices(True)
    assert export_person(Person(email="bob@example.com"))["consentements_cookies"] == []

    counts = erase_person(Person(email="alice@example.com"))
    db.session.commit()
    assert counts["consentements_cookies"] == 1
    assert export_person(Person(email="alice@example.com"))["consentements_cookies"] == []
    assert len(records()) == 2  # the pseudonymous proof stays


@pytest.mark.parametrize(("consent_id", "email"), [(None, "a@example.com"), ("", "a@example.com"), ("x", "  ")])
def test_link_without_consent_id_or_email_does_nothing(app, consent_id, email):
    assert link_consent_to_person(consent_id, email) is None
    assert len(db.session.new) == 0


def test_data_map_covers_the_consent_models(app):
    assert {ConsentRecord, ConsentSubject} <= covered_models()
    kind = data_map()["consentements_cookies"]
    with app.test_request_context("/"):
        assert "5 ans" in str(kind.retention) and kind.export(Person()) == [] and kind.erase(Person()) == 0


def make_record(day: datetime, choices: dict, action: str = "custom") -> None:
    """Add a record on a given day (as if it had been made then)."""
    db.session.add(ConsentRecord(
        consent_id=str(uuid.uuid4()), recorded_at=day, choices=choices, register_version="2026-11-24",
        policy_version=1, action=action, withdrawal=False, source="banner", channel="no-js",
        ip_prefix="203.0.113.0/24", browser="Firefox"))
    db.session.commit()


def test_export_csv_and_json_with_since(app, runner):
    make_record(datetime(2026, 1, 10, 12, tzinfo=UTC), all_choices(True), "accept_all")
    make_record(datetime(2026, 2, 1, 9, tzinfo=UTC), all_choices(False), "refuse_all")
    result = runner.invoke(args=["consent", "export"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [row["action"] for row in rows] == ["accept_all", "refuse_all"]
    assert rows[0]["analytics"] == "1" and rows[1]["advertising"] == "0"
    assert rows[0]["ip_prefix"] == "203.0.113.0/24" and rows[0]["policy_version"] == "1"
    result = runner.invoke(args=["consent", "export", "--since", "2026-01-15", "--format", "json"])
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.output)
    assert row["action"] == "refuse_all" and row["recorded_at"].startswith("2026-02-01T09:00:00")


def test_export_to_a_file(app, runner, tmp_path):
    make_record(datetime(2026, 1, 10, tzinfo=UTC), all_choices(True), "accept_all")
    target = tmp_path / "proof.json"
    result = runner.invoke(args=["consent", "export", "--format", "json", "--output", str(target)])
    assert result.exit_code == 0 and json.loads(target.read_text())[0]["action"] == "accept_all"


@pytest.mark.parametrize(("args", "message"), [
    (["--since", "10/01/2026"], "Invalid value for '--since'"),
    (["--format", "xml"], "Invalid value for '--format'"),
])
def test_export_rejects_bad_options(app, runner, args, message):
    result = runner.invoke(args=["consent", "export", *args])
    assert result.exit_code != 0 and message in result.output


def test_stats_per_day_and_category(app, runner):
    day = datetime(2026, 3, 5, 10, tzinfo=UTC)
    make_record(day, all_choices(True), "accept_all")
    make_record(day, {"analytics": True, "advertising": False, "affiliation": False})
    make_record(day, all_choices(False), "refuse_all")
    make_record(day, all_choices(False), "refuse_all")
    make_record(day, all_choices(False), "gpc_signal")
    make_record(day + timedelta(days=1), all_choices(False), "continue_without_accepting")
    result = runner.invoke(args=["consent", "stats", "--format", "json"])
    assert result.exit_code == 0, result.output
    first, second = json.loads(result.output)
    assert (first["day"], first["records"], first["choices"], first["gpc_signals"]) == ("2026-03-05", 5, 4, 1)
    assert first["rates"]["analytics"] == {"accept": 0.5, "refuse": 0.5}
    assert first["rates"]["advertising"] == {"accept": 0.25, "refuse": 0.75}
    assert second["rates"]["affiliation"] == {"accept": 0.0, "refuse": 1.0}
    assert first["accepted"] == {"analytics": 2, "advertising": 1, "affiliation": 1}
    table = runner.invoke(args=["consent", "stats"]).output
    assert "2026-03-05" in table and "50%/50%" in table and "25%/75%" in table
    total = table.strip().splitlines()[-1].split()
    assert total[:4] == ["total", "6", "5", "1"]  # records, choices, GPC signals over the period
    assert total[4:] == ["40%/60%", "20%/80%", "20%/80%"]
    since = json.loads(runner.invoke(args=["consent", "stats", "--since", "2026-03-06", "--format", "json"]).output)
    assert [d["day"] for d in since] == ["2026-03-06"]


def test_stats_without_records(app, runner):
    assert "No consent records." in runner.invoke(args=["consent", "stats"]).output


def test_purge_keeps_five_years_of_proof(app, runner):
    make_record(datetime.now(UTC) - timedelta(days=5 * 365 + 2), all_choices(True))
    make_record(datetime.now(UTC) - timedelta(days=5 * 365 - 2), all_choices(False))
    result = runner.invoke(args=["consent", "purge"])
    assert result.exit_code == 0 and "1 consent record(s)" in result.output
    assert [r.choices for r in records()] == [all_choices(False)]


def test_choose_url_only_accepts_post(client, policy):
    assert client.get(CHOOSE_URL["fr"]).status_code == 405


def test_give_cookie_helper_round_trips(app, client, policy):
    state = give_cookie(client, all_choices(True))
    with app.test_request_context("/", headers={"Cookie": f"kinv_consent={client.get_cookie('kinv_consent').value}"}):
        assert current_consent_id() == state.consent_id
