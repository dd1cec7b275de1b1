"""The data package of an access or portability request: a ZIP with JSON and CSV per kind, and a README.

The JSON files are the machine-readable copy (portability); the CSV files are for a spreadsheet.
"""

import csv
import io
import json
import zipfile

from flask import render_template
from flask_babel import force_locale

from app.datamap import Person, data_map, export_person
from app.policy.services import CONTROLLER_ADDRESS, CONTROLLER_NAME
from app.retention.register import ACTION_LABELS, rules_for_tables
from app.spreadsheet import safe_cell, safe_row

# A French spreadsheet opens a CSV as UTF-8 only after a byte-order mark, and splits columns on semicolons.
BOM = "\ufeff"


def as_cell(value) -> str:
    """One CSV cell: nested values as JSON, nothing as an empty cell, never a spreadsheet formula."""
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return safe_cell(value)


def csv_text(rows: list[dict]) -> str:
    """Rows as a spreadsheet's CSV (BOM, semicolons), with a header of every key met, in order of appearance."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(safe_row(columns))
    for row in rows:
        writer.writerow([as_cell(row.get(column)) for column in columns])
    return BOM + buffer.getvalue()


def exported_kinds(person: Person) -> dict[str, list[dict]]:
    """Every kind of data held about the person, with its rows (kinds with no row are left out)."""
    return {name: rows for name, rows in export_person(person).items() if rows}


def readme_text(person: Person, reference: str, held: dict[str, list[dict]]) -> str:
    """The French README (Art. 15): what each file holds, why, on what basis, for whom, for how long."""
    kinds = [kind for _name, kind in sorted(data_map().items())]
    retention = {kind.name: rules_for_tables({model.__tablename__ for model in kind.models}) for kind in kinds}
    with force_locale("fr"):
        return render_template("rights/package_readme.txt", person=person, reference=reference, held=held,
                               kinds=kinds, retention=retention, action_labels=ACTION_LABELS,
                               controller=CONTROLLER_NAME, address=CONTROLLER_ADDRESS)


def build_zip(person: Person, reference: str, systems: dict[str, dict] | None = None) -> bytes:
    """The ZIP: LISEZ-MOI.txt, <kind>.json and <kind>.csv per kind of data held, then systemes/<name>.json for each
    connected system's export."""
    held = exported_kinds(person)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("LISEZ-MOI.txt", readme_text(person, reference, held))
        for name, rows in held.items():
            archive.writestr(f"{name}.json", json.dumps(rows, ensure_ascii=False, indent=2, sort_keys=True))
            archive.writestr(f"{name}.csv", csv_text(rows))
        for name, export in sorted((systems or {}).items()):
            archive.writestr(f"systemes/{name}.json", json.dumps(export, ensure_ascii=False, indent=2, sort_keys=True))
    return buffer.getvalue()
