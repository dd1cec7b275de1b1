"""The record of processing activities: generated from the data map and the cookie register, complete, readable."""

import csv
import io
import json
from dataclasses import replace

import pytest
from flask_babel import force_locale

from app.backoffice.register import COLUMNS, activities
from app.consent.services import current_register
from app.datamap import REGISTER_FIELDS, DataKind, data_map
from tests.support.pages import axe_violations, vnu_errors
from tests.support.rights import staff_client
from tests.test_connectors import new_secret
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


def test_the_shipped_data_map_and_cookie_register_contradict_nothing(app):
    from app.datamap import map_problems

    with app.test_request_context("/"):
        assert map_problems() == [] and current_register().problems() == []


def sms_without_transfer() -> DataKind:
    """A kind that uses Twilio, outside the EEA, and declares no transfer."""
    return replace(data_map()["sms"], name="sms_sans_transfert", transfers=())


def test_a_kind_that_uses_twilio_without_declaring_the_transfer_fails_the_check(app, monkeypatch):
    from app.datamap import DATA_MAP, map_problems

    monkeypatch.setitem(app.extensions[DATA_MAP], "sms_sans_transfert", sms_without_transfer())
    with app.test_request_context("/"):
        assert map_problems() == ["sms_sans_transfert: Twilio Inc. traite les données hors de l’EEE sans que le "
                                  "transfert soit déclaré."]


@pytest.mark.parametrize("change, problem", [
    ({"processors": ("twilio", "nobody")}, "unknown processor 'nobody'"),
    ({"transfers": ("twilio", "host")}, "Transfert déclaré pour host"),
])
def test_a_kind_naming_an_unknown_processor_or_a_transfer_for_nothing_fails_the_check(app, change, problem):
    with app.test_request_context("/"):
        assert problem in " ".join(replace(data_map()["sms"], **change).problems())


def test_a_contradiction_is_shown_to_the_dpo_on_the_page_and_in_the_json(app, monkeypatch):
    from app.datamap import DATA_MAP

    monkeypatch.setitem(app.extensions[DATA_MAP], "sms_sans_transfert", sms_without_transfer())
    dpo = staff_client(app, "dpo")
    html = dpo.get(URL).get_data(as_text=True)
    assert "points à examiner" in html and "Twilio Inc. traite les données hors de l’EEE" in html
    found = json.loads(dpo.get(URL + ".json").data)["disagreements"]
    assert any("Twilio Inc." in item["says"] for item in found)


def test_every_processor_is_named_from_the_list_with_its_transfer_wherever_used(app):
    with app.test_request_context("/"):
        found = {activity.key: activity for activity in activities()}
    for key in ("newsletter", "sms"):
        assert "Twilio Inc. (envoi et réception des SMS)" in found[key].processors
        assert "Twilio Inc.\u00a0: les SMS et les numéros peuvent être traités aux États-Unis." in found[key].transfers
        assert "Data Privacy Framework" in found[key].safeguards
    assert "Google Ireland Limited (reCAPTCHA" in found["demandes_droits"].processors
    assert "Meta Platforms, Inc. aux États-Unis" in found["cookies_advertising"].transfers
    assert "AWIN AG" in found["cookies_affiliation"].processors
    assert "Aucun transfert" in found["cookies_affiliation"].transfers


def test_the_settings_name_the_mail_provider_the_host_and_the_captcha_in_use(make_app):
    other = make_app(MAIL_PROVIDER="Brevo (Sendinblue SAS)", HOSTING_PROVIDER="OVH SAS", CAPTCHA_PROVIDER="turnstile",
                     TURNSTILE_SITE_KEY="site", TURNSTILE_SECRET_KEY="secret")
    with other.test_request_context("/"):
        found = {activity.key: activity for activity in activities()}
        from app.backoffice.selfcheck import disagreements

        subjects = [item.subject for item in disagreements()]
    assert "Brevo (Sendinblue SAS)" in found["emails_envoyes"].processors and "OVH SAS" in found["sms"].processors
    assert "Cloudflare, Inc." in found["demandes_droits"].transfers
    assert "Sous-traitant non nommé" not in subjects and "Captcha du formulaire de contact" in subjects


def test_connected_systems_are_recipients_of_the_requests_they_receive(app, runner):
    result = runner.invoke(args=["connectors", "add", "Facturation", "--url", "https://billing.example.org/privacy",
                                 "--secret", new_secret(), "--types",
                                 "access,erasure"])
    assert result.exit_code == 0, result.output
    dpo = staff_client(app, "dpo")
    rows = json.loads(dpo.get(URL + ".json").data)["activities"]
    requests = next(row for row in rows if row["key"] == "demandes_droits")
    assert "Systèmes connectés qui reçoivent chaque demande\u00a0: Facturation." in requests["recipients"]
    assert all("Facturation" not in row["recipients"] for row in rows if row["key"] != "demandes_droits")
    assert "Facturation." in dpo.get(URL).get_data(as_text=True)


def test_the_page_the_csv_and_the_json_say_the_same(app):
    from html import escape

    dpo = staff_client(app, "dpo")
    rows = json.loads(dpo.get(URL + ".json").data)["activities"]
    table = list(csv.DictReader(io.StringIO(dpo.get(URL + ".csv").get_data(as_text=True).removeprefix("\ufeff")),
                                delimiter=";"))
    html = dpo.get(URL).get_data(as_text=True)
    with force_locale("fr"):
        titles = {key: str(label) for key, label in COLUMNS.items()}
    assert len(rows) == len(table)
    for row, line in zip(rows, table, strict=True):
        assert {key: line[titles[key]] for key in COLUMNS} == {key: row[key] for key in COLUMNS}
        assert all(escape(row[key], quote=False) in html for key in COLUMNS), row["key"]


def test_the_policys_one_month_promise_and_the_two_month_extension_are_shown_as_a_disagreement(app, policy):
    html = staff_client(app, "dpo").get(URL).get_data(as_text=True)
    assert "Délai de réponse aux demandes" in html
    assert "promet une réponse « en tout état de cause dans un délai d’un mois »" in html
    assert "prolonger ce délai de 2\u00a0mois" in html or "prolonger ce délai de 2 mois" in html
