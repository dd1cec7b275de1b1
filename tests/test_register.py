"""The record of processing activities: generated from the data map and the cookie register, complete, readable."""

import csv
import io
import json

import pytest
from flask_babel import force_locale

from app.backoffice.register import COLUMNS, activities
from app.consent.services import current_register
from app.datamap import REGISTER_FIELDS, DataKind, data_map
from tests.support.pages import axe_violations, vnu_errors
from tests.support.rights import staff_client
from tests.test_dashboard import every_feature, log_in_to

URL = "/admin/registre"


def test_a_data_map_entry_without_the_register_columns_is_refused():
    with pytest.raises(TypeError, match="people"):
        DataKind(name="nouveau", models=(), purpose="Une finalité.", legal_basis="Consentement.",
                 retention="Un an.", recipients="Nous.", export=lambda person: [], erase=lambda person: 0)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_entry_of_the_data_map_fills_every_column_of_the_register(app, lang):
    with app.test_request_context(f"/?lang={lang}"):
        for kind in data_map().values():
            empty = [name for name in REGISTER_FIELDS if not str(getattr(kind, name)).strip()]
            assert empty == [], kind.name


def test_the_record_has_an_activity_per_kind_of_data_and_per_cookie_category(app):
    with app.test_request_context("/"):
        found = activities()
    categories = current_register().categories
    assert [a.key for a in found] == sorted(data_map()) + [f"cookies_{c.key}" for c in categories]
    for activity in found:
        assert all(str(getattr(activity, column)).strip() for column in COLUMNS), activity.key
    audience = next(a for a in found if a.key == "cookies_analytics")
    assert "Google Ireland Limited" in audience.recipients and "_ga\u00a0: 13 mois" in audience.retention
    assert "Data Privacy Framework" in audience.safeguards


def test_only_staff_see_the_record(client):
    assert client.get(URL).status_code == 302
    assert client.get(URL + ".csv").status_code == 302


def test_the_record_page_shows_every_activity_and_validates(app, client, mailbox, tmp_path):
    every_feature(app, client, mailbox)
    response = staff_client(app, "agent").get(URL)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "private, no-store"
    html = response.get_data(as_text=True)
    for title in ("Newsletter et SMS", "Liste d’opposition", "Demandes d’exercice des droits et questions",
                  "Cookies\u00a0: Mesure d’audience", "Catégories de personnes concernées",
                  "Transferts hors de l’Union européenne", "Garanties des transferts", "Mesures de sécurité",
                  "Tant que vous restez inscrit, puis trois ans après le dernier contact"):
        assert title in html
    assert vnu_errors({URL: response.data}, tmp_path) == []


def test_flask_registre_export_writes_csv_for_a_spreadsheet_and_json(app, runner):
    result = runner.invoke(args=["registre", "export", "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(result.output.removeprefix("\ufeff")), delimiter=";"))
    with force_locale("fr"):
        assert list(rows[0]) == [str(label) for label in COLUMNS.values()]
    assert list(rows[0])[:2] == ["Activité de traitement", "Finalité"] and "Mesures de sécurité" in rows[0]
    assert len(rows) == len(data_map()) + len(current_register().categories)
    assert {row["Activité de traitement"] for row in rows} >= {"Newsletter et SMS", "Liste d’opposition"}
    exported = json.loads(runner.invoke(args=["registre", "export", "--format", "json"]).output)
    assert exported["controller"]["name"] == "K-Technology & Services"
    assert {activity["key"] for activity in exported["activities"]} >= set(data_map())
    english = json.loads(runner.invoke(args=["registre", "export", "--format", "json", "--lang", "en"]).output)
    assert english["activities"][0]["name"] != exported["activities"][0]["name"]


def test_the_record_downloads_as_csv_and_json(app):
    staff = staff_client(app, "dpo")
    response = staff.get(URL + ".csv")
    assert response.mimetype == "text/csv" and response.data.startswith(b"\xef\xbb\xbf")
    assert "attachment" in response.headers["Content-Disposition"]
    assert json.loads(staff.get(URL + ".json").data)["activities"]
    assert staff.get(URL + ".xml").status_code == 404


@pytest.mark.browser
def test_the_record_passes_axe_in_chromium(live_server, browser, mailbox):
    app = live_server.server.app
    with app.app_context():
        every_feature(app, app.test_client(), mailbox)  # makes the DPO's account too
    context, page = log_in_to(browser, live_server, URL, bypass_csp=True)
    assert page.locator("section.activity").count() == len(activities_count(live_server))
    assert axe_violations(page) == []
    context.close()


def activities_count(live_server) -> list:
    """The record's activities, as the live app builds them."""
    with live_server.server.app.test_request_context("/"):
        return activities()
