"""The retention register and `flask retention run`: every rule moved through time with --now, on the real app."""

import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from app.consent.models import ConsentRecord, ConsentSubject
from app.datamap import Person
from app.extensions import db
from app.mail.models import OutboxMessage, OutboxStatus, SoftBounce
from app.mail.services import queue_mail
from app.newsletter.models import Subscriber, SubscriberEvent
from app.retention.models import RetentionRun
from app.retention.register import P8_NO_ANSWER, P8_PROSPECTS, all_rules, covered_tables
from app.rights import models as m
from app.rights.package import readme_text
from app.suppression.services import is_suppressed, suppress
from tests.conftest import deliver_mail, submit_form
from tests.support.consent import all_choices
from tests.support.newsletter import confirmed_subscriber, links, path_of, subscribe, subscriber
from tests.support.pages import vnu_errors
from tests.support.rights import send_request, staff_client, stored_request

POLICY = (Path(__file__).parent.parent / "content" / "policy" / "v1" / "fr.txt").read_text(encoding="utf-8")
PERSONAL_HINTS = ("email", "phone", "name", "recipient", "ip", "address", "hash", "contact", "message", "browser",
                  "actor", "instructions", "content")
NOT_ABOUT_PEOPLE = {"scheduled_jobs": "a job's name and last result",
                    "connected_systems": "a company system's name, endpoint and secret"}
DAY = timedelta(days=1)
YEAR = timedelta(days=365)


def run(runner, now: datetime | None = None, *extra: str) -> str:
    """`flask retention run [--now …]`, which must succeed; its output."""
    args = ["retention", "run", *extra] + (["--now", now.isoformat()] if now else [])
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    return result.output


def acted(output: str, rule: str) -> int:
    """How many rows a rule acted on, read from the command's report."""
    return int(re.search(rf"^(?:\[dry run\] )?{rule}: matched \d+, acted on (\d+)", output, re.M).group(1))


def count(model, *where) -> int:
    """Rows of a model (matching conditions), fresh from the database."""
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def test_every_table_holding_personal_data_has_a_rule(app):
    tables = {table.name: [c.name for c in table.columns if isinstance(c.type, sa.String | sa.Text | sa.LargeBinary)
                           and any(hint in c.name for hint in PERSONAL_HINTS)] for table in db.metadata.sorted_tables}
    forgotten = {name: columns for name, columns in tables.items()
                 if columns and name not in covered_tables() and name not in NOT_ABOUT_PEOPLE}
    assert not forgotten, f"give these tables a retention rule (a feature's RULES): {forgotten}"


def test_every_rule_quotes_the_policy_verbatim_and_runs_with_a_period(app):
    for rule in all_rules():
        assert rule.policy and all(sentence in POLICY for sentence in rule.policy), rule.key
        assert not rule.runs or rule.period is not None, rule.key


def test_staff_read_the_register_in_the_back_office(app, runner):
    assert app.test_client().get("/admin/conservation").status_code == 302
    run(runner)
    page = staff_client(app).get("/admin/conservation").get_data(as_text=True)
    assert "Conservation des données" in page and "5 ans" in page and "90 jours" in page
    assert P8_NO_ANSWER.replace("'", "&#39;") in page and "Suppression" in page


def test_the_access_package_readme_quotes_the_register(app):
    with app.test_request_context("/"):
        readme = readme_text(Person(email="a@example.com"), "DR-2026-000001", {})
    assert P8_PROSPECTS in readme and "3 ans, à compter de la dernière action positive" in readme
    assert "30 jours, à compter de la remise du message (contenu effacé, métadonnées gardées)" in readme


def test_unconfirmed_signups_go_after_30_days_with_their_mail_and_consent_link(client, runner, mailbox):
    subscribe(client, "never@example.com")
    db.session.add(ConsentSubject(consent_id="c-never", email_hash=subscriber("never@example.com").email_hash))
    db.session.commit()
    now = datetime.now(UTC)
    assert acted(run(runner, now + 29 * DAY), "newsletter_non_confirmees") == 0
    assert acted(run(runner, now + 31 * DAY), "newsletter_non_confirmees") == 1
    assert subscriber("never@example.com") is None
    assert count(OutboxMessage, OutboxMessage.recipient == "never@example.com") == 0
    assert count(ConsentSubject) == 0 and count(SubscriberEvent) == 0


def age(email: str, delta: timedelta) -> None:
    """Move a subscriber's whole history back in time."""
    found = subscriber(email)
    events, subscribers = SubscriberEvent.__table__, Subscriber.__table__
    for event_id, at in db.session.execute(sa.select(events.c.id, events.c.occurred_at).where(
            events.c.subscriber_id == found.id)).all():
        db.session.execute(events.update().where(events.c.id == event_id).values(occurred_at=at - delta))
    db.session.execute(subscribers.update().where(subscribers.c.id == found.id).values(
        created_at=found.created_at - delta))
    db.session.commit()


def question(mailbox, email: str):
    """Deliver the outbox and return the re-permission e-mail received by the address."""
    deliver_mail()
    [message] = [msg for msg in mailbox.to(email) if "continuer à recevoir" in msg["Subject"]]
    return message


def test_repermission_stay_keeps_the_subscriber(client, runner, mailbox):
    confirmed_subscriber(client, mailbox, "stay@example.com")
    age("stay@example.com", 3 * YEAR - 29 * DAY)
    assert acted(run(runner), "newsletter_relance") == 1
    assert acted(run(runner), "newsletter_relance") == 0, "asked once"
    message = question(mailbox, "stay@example.com")
    [stay] = links(message, "/newsletter/rester/")
    [leave] = links(message, "/newsletter/desabonnement/")
    assert message["List-Unsubscribe"] == f"<{leave}>", "one click leaves, as the « Non » of the question"
    page = client.get(path_of(stay))
    assert page.status_code == 200 and "Oui, je reste abonné" in page.get_data(as_text=True)
    assert client.post(path_of(stay), headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403, "another site"
    answer = submit_form(client, path_of(stay), {})
    assert answer.status_code == 200 and "Vous restez abonné" in answer.get_data(as_text=True)
    later = datetime.now(UTC) + 31 * DAY
    output = run(runner, later)
    assert acted(output, "newsletter_prospects") == 0 and acted(output, "newsletter_relance") == 0
    assert subscriber("stay@example.com").email_status == "confirmed"
    assert client.get(path_of(leave)).status_code == 200, "the plain link to leave works too"


def test_repermission_without_an_answer_deletes_and_keeps_the_opt_out_list(client, runner, mailbox):
    confirmed_subscriber(client, mailbox, "silent@example.com")
    confirmed_subscriber(client, mailbox, "gone@example.com", lists=("evenements",))
    suppress("email", email="gone@example.com", source="staff")
    db.session.commit()
    now = datetime.now(UTC)
    asked_at = now + 3 * YEAR - 29 * DAY
    output = run(runner, asked_at)
    assert acted(output, "newsletter_relance") == 1, "an opted-out address is never asked"
    assert acted(output, "newsletter_prospects") == 0
    [stay] = links(question(mailbox, "silent@example.com"), "/newsletter/rester/")
    output = run(runner, now + 3 * YEAR + timedelta(hours=1))
    assert acted(output, "newsletter_prospects") == 1, "the opted-out one goes after three years"
    assert subscriber("gone@example.com") is None and subscriber("silent@example.com") is not None
    assert acted(run(runner, asked_at + 31 * DAY), "newsletter_prospects") == 1
    assert subscriber("silent@example.com") is None
    assert count(OutboxMessage, OutboxMessage.recipient.in_(["silent@example.com", "gone@example.com"])) == 0
    assert is_suppressed("email", email="gone@example.com"), "the opt-out list outlives the subscriber"
    page = client.get(path_of(stay))
    assert page.status_code == 400, "the link of a deleted subscriber opens nothing"


def make_record(day: datetime, consent_id: str) -> None:
    """A consent record made on a given day."""
    db.session.add(ConsentRecord(consent_id=consent_id, recorded_at=day, choices=all_choices(True),
                                 register_version="v", policy_version=1, action="accept_all", withdrawal=False,
                                 source="banner", channel="js", ip_prefix="203.0.113.0/24", browser="Firefox"))


def test_consent_proof_is_kept_five_years_then_its_links_go(app, runner):
    now = datetime.now(UTC)
    make_record(now - 5 * YEAR - 2 * DAY, "old")
    make_record(now - 5 * YEAR + 2 * DAY, "recent")
    db.session.add_all([ConsentSubject(consent_id="old", email_hash="h1"),
                        ConsentSubject(consent_id="recent", email_hash="h2")])
    db.session.commit()
    output = run(runner)
    assert acted(output, "preuves_consentement") == 1 and acted(output, "liens_consentement") == 1
    assert [s.consent_id for s in db.session.scalars(sa.select(ConsentSubject))] == ["recent"]
    assert acted(run(runner, now + 3 * DAY), "preuves_consentement") == 1


def test_rights_requests_unconfirmed_expire_then_go_and_closed_ones_go_after_five_years(client, runner, mailbox):
    send_request(client, "unsure@example.fr")
    send_request(client, "done@example.fr", kind="objection")
    done = stored_request("done@example.fr")
    done.status, done.confirmed_at, done.closed_at = m.Status.ANSWERED, done.received_at, datetime.now(UTC)
    suppress("email", email="done@example.fr", source="rights")
    db.session.commit()
    now = datetime.now(UTC)
    assert acted(run(runner, now + 31 * DAY), "demandes_non_confirmees") == 1
    expired = stored_request("unsure@example.fr")
    assert expired.status == "expired" and [e.action for e in expired.events][-1] == "expired"
    assert acted(run(runner, now + 31 * DAY), "demandes_non_confirmees") == 0, "idempotent"
    assert acted(run(runner, now + 62 * DAY), "demandes_expirees") == 1
    assert stored_request("unsure@example.fr") is None and stored_request("done@example.fr") is not None
    assert acted(run(runner, now + 5 * YEAR + 2 * DAY), "demandes_droits") == 1
    assert count(m.RightsRequest) == 0 and count(m.RequestEvent) == 0
    assert is_suppressed("email", email="done@example.fr"), "the opt-out entries stay"


def test_data_packages_empty_after_seven_days_and_revoked_directives_go(client, runner, mailbox):
    send_request(client)
    request = stored_request()
    now = datetime.now(UTC)
    db.session.add(m.DataPackage(request_id=request.id, expires_at=now + 7 * DAY, filename="d.zip", content=b"zip"))
    db.session.add_all([m.PostMortemDirective(email="a@example.fr", instructions="x", designated_name="B",
                                              designated_contact="b@example.fr", recorded_by="dpo", revoked_at=now),
                        m.PostMortemDirective(email="c@example.fr", instructions="y", designated_name="D",
                                              designated_contact="d@example.fr", recorded_by="dpo")])
    db.session.commit()
    output = run(runner, now + 8 * DAY)
    assert acted(output, "dossiers_donnees") == 1 and acted(output, "directives_revoquees") == 0
    assert db.session.scalar(sa.select(m.DataPackage.content)) is None
    assert acted(run(runner, now + 31 * DAY), "directives_revoquees") == 1
    assert [d.email for d in db.session.scalars(sa.select(m.PostMortemDirective))] == ["c@example.fr"]


def sent_message(recipient: str, status: str, when: datetime) -> None:
    """A message queued (and delivered, when sent) at a given time."""
    message = queue_mail(recipient, "Objet", "Corps du message", "<p>Corps</p>", headers={"List-Id": "x <x.y>"})
    message.message_id = f"<{uuid.uuid4().hex}@x>"
    message.status, message.created_at = status, when
    message.sent_at = when if status == OutboxStatus.SENT else None
    db.session.commit()


def test_outbox_bodies_are_cleared_and_metadata_kept_then_deleted(app, runner):
    now = datetime.now(UTC)
    sent_message("sent@example.com", OutboxStatus.SENT, now)
    sent_message("failed@example.com", OutboxStatus.FAILED, now)
    db.session.add(SoftBounce(address_hash="h", report_hash="r", status="4.2.2", bounced_at=now))
    db.session.commit()
    output = run(runner, now + 31 * DAY)
    assert acted(output, "emails_contenu") == 1 and acted(output, "emails_echoues") == 0
    assert acted(output, "rebonds_temporaires") == 1 and count(SoftBounce) == 0
    sent = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.recipient == "sent@example.com"))
    assert (sent.body_text, sent.body_html, sent.headers, sent.subject) == ("", None, {}, "Objet")
    assert acted(run(runner, now + 91 * DAY), "emails_echoues") == 1
    assert acted(run(runner, now + 91 * DAY), "emails_echoues") == 0, "idempotent"
    assert acted(run(runner, now + 5 * YEAR + DAY), "emails_envoyes") == 2 and count(OutboxMessage) == 0


def test_a_dry_run_changes_nothing_and_every_run_is_audited(app, runner):
    now = datetime.now(UTC)
    make_record(now - 6 * YEAR, "old")
    db.session.commit()
    output = run(runner, None, "--dry-run")
    assert "[dry run] preuves_consentement: matched 1, acted on 1" in output and count(ConsentRecord) == 1
    run(runner, None, "--rule", "preuves_consentement")
    assert count(ConsentRecord) == 0
    audit = db.session.scalars(sa.select(RetentionRun).where(RetentionRun.rule == "preuves_consentement")
                               .order_by(RetentionRun.id)).all()
    assert [(a.dry_run, a.matched, a.acted, a.ok) for a in audit] == [(True, 1, 1, True), (False, 1, 1, True)]
    assert count(RetentionRun) == len([r for r in all_rules() if r.runs]) + 1
    assert runner.invoke(args=["retention", "run", "--rule", "nope"]).exit_code != 0
    assert runner.invoke(args=["retention", "run", "--now", "hier"]).exit_code != 0


def test_the_new_pages_are_valid_html(app, client, runner, mailbox, tmp_path):
    confirmed_subscriber(client, mailbox, "valid@example.com")
    age("valid@example.com", 3 * YEAR)
    run(runner)
    [stay] = links(question(mailbox, "valid@example.com"), "/newsletter/rester/")
    pages = {"stay": client.get(path_of(stay)).data, "stayed": submit_form(client, path_of(stay), {}).data,
             "register": staff_client(app).get("/admin/conservation").data}
    assert vnu_errors(pages, tmp_path) == []


def rows_mentioning(text: str) -> dict[str, int]:
    """Tables with rows that hold the text anywhere (any column, JSON included), and how many."""
    found = {}
    for table in db.metadata.sorted_tables:
        rows = [row for row in db.session.execute(sa.select(table)).all() if text in repr(tuple(row))]
        if rows:
            found[table.name] = len(rows)
    return found


def test_nothing_of_a_deleted_subscriber_is_left_but_the_opt_out_entry(client, runner, mailbox):
    confirmed_subscriber(client, mailbox, "parti@example.com")
    subscriber_hash = subscriber("parti@example.com").email_hash
    db.session.add(ConsentSubject(consent_id="c-parti", email_hash=subscriber_hash))
    suppress("email", email="parti@example.com", source="staff")
    db.session.commit()
    age("parti@example.com", 3 * YEAR + DAY)
    assert rows_mentioning("parti@example.com")
    run(runner)
    assert rows_mentioning("parti@example.com") == {}
    assert rows_mentioning(subscriber_hash) == {"suppressions": 1}, "only the opt-out entry keeps the keyed hash"
    assert is_suppressed("email", email="parti@example.com")


def test_after_an_erasure_only_the_erasure_request_and_its_answer_name_the_person(app, client, mailbox):
    from tests.support.rights import confirmed_request, staff_action

    confirmed_subscriber(client, mailbox, "efface@example.com")
    reference = confirmed_request(client, mailbox, "efface@example.com", kind="erasure").reference
    assert staff_action(staff_client(app, "dpo"), reference, "effacer", confirmed="1").status_code == 303
    db.session.expire_all()
    assert set(rows_mentioning("efface@example.com")) <= {"rights_requests", "outbox"}
    kinds = set(db.session.scalars(sa.select(OutboxMessage.kind).where(
        OutboxMessage.recipient == "efface@example.com")))
    assert kinds <= {"rights"}, "only mail about the erasure request itself"
