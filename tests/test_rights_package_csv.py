"""The access package's CSV files open in a French spreadsheet: UTF-8 with a BOM, semicolons; never cached."""

import csv
import io
import json
import zipfile

import pytest

from app.rights.package import as_cell, csv_text
from tests.support.rights import latest_mail, links, path_of, staff_action, staff_client
from tests.test_rights_backoffice import EMAIL, person_who_subscribed_consented_and_wrote


def test_the_package_csvs_have_a_bom_and_semicolons_and_the_download_is_no_store(app, client, mailbox):
    reference = person_who_subscribed_consented_and_wrote(client, mailbox).reference
    assert staff_action(staff_client(app), reference, "dossier").status_code == 303
    [link] = links(latest_mail(mailbox, EMAIL), "/demande/dossier/")
    response = client.get(path_of(link))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    raw = archive.read("demandes_droits.csv")
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0]["name"] == "Jeanne Martin" and rows[0]["email"] == EMAIL
    newsletter = list(csv.DictReader(io.StringIO(archive.read("newsletter.csv").decode("utf-8-sig")), delimiter=";"))
    assert newsletter[0]["phone"] == "+33612345678"
    assert json.loads(archive.read("newsletter.json"))[0]["email"] == EMAIL  # the machine-readable copy is unchanged


def test_accented_text_and_semicolons_survive_a_round_trip():
    text = csv_text([{"nom": "Hélène Dupré", "message": "Bonjour ; merci « vite »", "listes": ["a", "b"]}])
    [row] = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))
    assert row == {"nom": "Hélène Dupré", "message": "Bonjour ; merci « vite »", "listes": '["a", "b"]'}


@pytest.mark.parametrize(("value", "cell"), [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("@SUM(A1)", "'@SUM(A1)"), ("-cmd", "'-cmd"),
    ("+33612345678", "+33612345678"), ("-3", "-3"), ("Jeanne", "Jeanne"), (None, ""),
])
def test_no_cell_is_read_as_a_formula(value, cell):
    assert as_cell(value) == cell
