"""The DPO's dashboard, with data from every feature: requests, cookie choices, opt-outs from each source."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.backoffice import stats
from app.backoffice.models import ConsentWeek
from app.consent.models import ConsentRecord
from app.extensions import db
from app.newsletter.events import Source
from app.newsletter.services import record_staff_opt_out, unsubscribe_everything
from app.newsletter.sms import stop_number
from app.rights.models import RightsRequest, Status
from app.suppression.models import Channel
from app.suppression.services import suppress
from tests.conftest import is_postgresql
from tests.support.consent import choose
from tests.support.newsletter import confirmed_subscriber
from tests.support.pages import axe_violations, vnu_errors
from tests.support.rights import confirmed_request, log_in_browser, staff_action, staff_client
from tests.test_security import INLINE, sha256_source

URL = "/admin/tableau-de-bord"


def every_feature(app, client, mailbox) -> None:
    """Two open requests and one answered; three cookie choices and a GPC signal; opt-outs from five sources."""
    confirmed_request(client, mailbox, "jeanne@example.fr", kind="access")
    answered = confirmed_request(client, mailbox, "paul@example.fr", kind="question")
    staff = staff_client(app, "dpo", "dpo@k-inventory.com")
    assert staff_action(staff, answered.reference, "repondre", text="Voici notre réponse.").status_code == 303
    db.session.add(RightsRequest(reference="DR-2026-009999", kind="question", status=Status.CONFIRMED, name="Ancien",
                                 email="old@example.fr", received_at=datetime.now(UTC) - timedelta(days=34),
                                 due_on=date.today() - timedelta(days=3)))
    for choice in ("accept_all", "refuse_all", "accept_all"):
        choose(app.test_client(), choice)
    gpc_browser = app.test_client()
    for _ in range(2):  # GPC is recorded once the browser shows it keeps the consent cookie
        gpc_browser.get("/", headers={"Sec-GPC": "1"})
    camille = confirmed_subscriber(client, mailbox, "camille@example.fr")
    unsubscribe_everything(camille, Source.ONE_CLICK)
    unsubscribe_everything(confirmed_subscriber(client, mailbox, "lea@example.fr"), Source.UNSUBSCRIBE_PAGE)
    stop_number("+33612345678")
    record_staff_opt_out(email="staff-optout@example.fr")
    suppress(Channel.EMAIL, email="gone@example.fr", source="bounce")
    db.session.commit()


def visible(html: str) -> str:
    """The page's text, tags removed, spaces (no-break ones included) made plain."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html).replace("\u00a0", " ").replace("\u202f", " "))


def test_only_staff_see_the_dashboard(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/admin/connexion" in response.headers["Location"]


def test_the_dashboard_charts_every_feature_with_summaries_and_tables(app, client, mailbox, tmp_path):
    every_feature(app, client, mailbox)
    response = staff_client(app, "agent").get(URL)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    html = response.get_data(as_text=True)
    text = visible(html)
    assert "2 demandes ouvertes, dont 1 en retard" in text
    assert "Sur 12 mois, 1 réponse sur 1 (100 %) envoyée dans le délai."  # French: singular for 0 and 1 in text
    assert "Sur 12 semaines, 3 choix enregistrés ; acceptés : mesure d’audience 67 %" in text
    assert "Signaux GPC : 1 (25 % des enregistrements)." in text
    assert "Sur 12 semaines, 5 oppositions enregistrées" in text
    for source in ("lien de désabonnement ou préférences : 1", "désabonnement en un clic : 1", "stop par sms : 1",
                   "équipe (demande de droits) : 1", "adresse en échec ou plainte : 1"):
        assert source in text
    assert html.count("<svg") == 4 and html.count("<table") == 4 and "<rect" in html and "<polyline" in html
    csp = response.headers["Content-Security-Policy"]
    for kind, code in INLINE.findall(html):  # nothing the CSP blocks
        assert sha256_source(code) in csp, kind
    assert " style=" not in html
    assert vnu_errors({URL: response.data}, tmp_path) == []


def test_a_finished_week_is_counted_once_and_kept(app):
    now = datetime.now(UTC)
    last_week = datetime.combine(stats.week_starts(now)[-2], datetime.min.time(), tzinfo=UTC) + timedelta(days=2)
    for action, choices in (("accept_all", {"analytics": True}), ("gpc_signal", {"analytics": False})):
        db.session.add(ConsentRecord(consent_id="c", recorded_at=last_week, choices=choices, register_version="1",
                                     action=action, source="banner", channel="js"))
    db.session.commit()
    series = stats.consent_choices(now)
    assert series.rows[-2][1]["choices"] == 1 and series.rows[-2][1]["gpc"] == 1
    assert series.rows[-2][1]["analytics"] == 1
    kept = db.session.scalars(sa.select(ConsentWeek).order_by(ConsentWeek.week_start)).all()
    assert len(kept) == 11 and kept[-1].accepted["analytics"] == 1  # this week is still counted live
    assert stats.consent_choices(now).rows == series.rows


@pytest.mark.parametrize(("moment", "week"), [
    (datetime(2026, 11, 23, 0, 0, tzinfo=UTC), 10),  # Monday 00:00: the week it opens
    (datetime(2026, 11, 22, 23, 59, tzinfo=UTC), 9),  # Sunday 23:59: the week before
    (datetime(2026, 11, 30, 9, 0, tzinfo=UTC), 11),
])
def test_weeks_start_on_monday_at_midnight_utc(app, moment, week):
    db.session.add(ConsentRecord(consent_id="c", recorded_at=moment, choices={"analytics": True},
                                 register_version="1", action="accept_all", source="banner", channel="js"))
    db.session.commit()
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    rows = stats.consent_choices(now).rows
    assert [index for index, (_, counts) in enumerate(rows) if counts["choices"]] == [week]
    assert rows[week][0] == date(2026, 9, 14) + timedelta(weeks=week)
    assert db.engine.dialect.name == ("postgresql" if is_postgresql() else "sqlite")


def log_in_to(browser, live_server, path: str, **options):
    """A browser page of a logged-in DPO, showing a back-office page (the DPO account made by `every_feature`)."""
    context = browser.new_context(locale="fr-FR", **options)
    page = context.new_page()
    page.add_init_script("window.cspViolations = []; document.addEventListener('securitypolicyviolation',"
                         " event => window.cspViolations.push(event.violatedDirective));")
    if "storage_state" not in options:  # a browser that already holds the DPO's session needs no second login
        log_in_browser(page, live_server, "dpo@k-inventory.com")
    page.goto(live_server.url + path, wait_until="networkidle")
    return context, page


@pytest.mark.browser
def test_the_dashboard_keeps_to_the_csp_and_passes_axe_in_chromium(live_server, browser, mailbox):
    app = live_server.server.app
    with app.app_context():
        every_feature(app, app.test_client(), mailbox)
    context, page = log_in_to(browser, live_server, URL)
    assert page.evaluate("window.cspViolations") == []
    assert page.locator("svg.chart rect").count() > 5
    session = context.storage_state()
    context.close()
    context, page = log_in_to(browser, live_server, URL, bypass_csp=True, storage_state=session)  # axe is a script
    assert axe_violations(page) == []
    context.close()
