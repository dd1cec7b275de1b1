"""The opt-out list from every side: the rights back-office's calls, a restriction, mail queued before an opt-out,
the mailto: unsubscribe, policy notices, and the bulk send writing what the single-message builder writes."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.mail.models import OutboxMessage
from app.mail.services import message_content
from app.newsletter.campaigns import send_campaign, sms_audience
from app.newsletter.links import manage_token
from app.newsletter.mail import MarketingBuilder
from app.newsletter.models import SubscriberEvent
from app.policy.services import FIRST_VERSION_DIR
from app.suppression.services import lift, suppress
from tests.conftest import deliver_mail, submit_form
from tests.support.newsletter import (
    confirmed_subscriber,
    links,
    path_of,
    subscribe,
    subscriber,
    text_part,
)

SUBJECT = "Invitation au salon"
TEXT = "Bonjour,\n\nRetrouvez-nous au salon.\n"
HTML = "<html><body><p>Retrouvez-nous au <b>salon</b>.</p></body></html>"
LIST_UNSUBSCRIBE = re.compile(r"<([^>]+)>")


def campaign(runner, tmp_path, slug: str = "actualites-produit", subject: str = SUBJECT) -> str:
    """Queue a campaign with `flask newsletter send` (nothing is delivered yet); return its output."""
    text = tmp_path / "texte.txt"
    text.write_text(TEXT, encoding="utf-8")
    result = runner.invoke(args=["newsletter", "send", "--list", slug, "--subject", subject, "--text", str(text)])
    assert result.exit_code == 0, result.output
    return result.output


def received(mailbox, address: str, subject: str = SUBJECT) -> list:
    """Deliver the outbox, then the campaign messages the SMTP server received for the address."""
    deliver_mail()
    return [m for m in mailbox.to(address) if m["Subject"] == subject]


def marketing_statuses(address: str) -> list[str]:
    """The outbox statuses of the marketing mail written to the address."""
    return list(db.session.scalars(sa.select(OutboxMessage.status).where(
        OutboxMessage.recipient == address, OutboxMessage.kind == "marketing")))


def preferences_page(client, person) -> str:
    """The person's preference centre, as linked from their e-mails."""
    return client.get(f"/newsletter/preferences/{manage_token(person.public_id)}").get_data(as_text=True)


def ticked(html: str, name: str) -> bool:
    """Whether the checkbox of that name is ticked."""
    return "checked" in re.search(rf'<input[^>]*name="{name}"[^>]*>', html).group(0)


def test_opting_out_of_every_channel_with_suppress_turns_the_subscriber_off(client, runner, mailbox, tmp_path):
    confirmed_subscriber(client, mailbox, "all@example.com", ["actualites-produit", "evenements"],
                         phone="06 12 34 56 78")
    assert "1 messages queued" in campaign(runner, tmp_path)
    # What the rights back-office does for « oppose to all marketing »: one call per channel, then commit.
    suppress("email", email=" All@Example.com", source="rights")
    suppress("sms", phone="+33612345678", source="rights")
    db.session.commit()
    assert received(mailbox, "all@example.com") == [], "mail queued before the opt-out is never delivered"
    assert marketing_statuses("all@example.com") == ["cancelled"]
    fresh = subscriber("all@example.com")
    assert fresh.slugs_with("active") == [] and fresh.email_status == "unsubscribed"
    assert fresh.sms_status == "unsubscribed" and sms_audience() == []
    html = preferences_page(client, fresh)
    assert not ticked(html, "email_on") and not ticked(html, "sms_on")
    assert html.count("demande traitée par notre équipe") == 4, "two lists and SMS in the history, and the SMS state"
    events = db.session.scalar(sa.select(sa.func.count()).select_from(SubscriberEvent))
    suppress("email", email="all@example.com", source="rights")
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SubscriberEvent)) == events, "idempotent"
    assert "0 messages queued" in campaign(runner, tmp_path)


def test_a_restriction_blocks_every_send_and_every_contact_until_it_is_lifted(client, runner, mailbox, policy,
                                                                             tmp_path):
    person = confirmed_subscriber(client, mailbox, "r@example.com", ["evenements"], phone="0612345678")
    campaign(runner, tmp_path, "evenements")
    suppress("email", email="r@example.com", source="rights", reason="restriction")
    suppress("sms", phone="0612345678", source="rights", reason="restriction")
    db.session.commit()
    assert received(mailbox, "r@example.com") == [] and marketing_statuses("r@example.com") == ["cancelled"]
    assert "0 messages queued, 1 held back by the opt-out list" in campaign(runner, tmp_path, "evenements")
    assert sms_audience() == []
    mailbox.clear()
    # Nothing the person or anyone else does on the site makes us write to the address meanwhile.
    subscribe(client, "r@example.com", ["actualites-produit"])
    submit_form(client, "/newsletter", {"form": "link", "email": "r@example.com"})
    url = f"/newsletter/preferences/{manage_token(person.public_id)}"
    html = client.get(url).get_data(as_text=True)
    assert "Le traitement de vos données est limité" in html and "Traitement limité à votre demande" in html
    submit_form(client, url, {"action": "save", "email_on": "y", "lists": ["actualites-produit", "evenements"],
                              "sms_on": "y"})
    published = runner.invoke(args=["policy", "publish", "--file", str(FIRST_VERSION_DIR / "fr.txt"),
                                     "--summary", "Nouvelle finalité.", "--material"])
    assert published.exit_code == 0, published.output
    deliver_mail()
    assert mailbox.to("r@example.com") == []
    fresh = subscriber("r@example.com")
    assert fresh.slugs_with("active") == ["evenements"], "a restriction is not a withdrawal of consent"
    assert fresh.subscription("actualites-produit") is None, "the form's request is silently dropped"
    # Staff lift the restriction: the consent given before applies again.
    lift("email", email="r@example.com", reason="restriction", source="rights")
    lift("sms", phone="+33612345678", reason="restriction", source="rights")
    db.session.commit()
    assert "Fin de la limitation du traitement" in client.get(url).get_data(as_text=True)
    assert sms_audience() == ["+33612345678"]
    mailbox.clear()
    assert "1 messages queued" in campaign(runner, tmp_path, "evenements")
    assert len(received(mailbox, "r@example.com")) == 1


def test_a_one_click_between_the_send_and_the_delivery_cancels_that_lists_mail_only(app, client, runner, mailbox,
                                                                                   tmp_path):
    person = confirmed_subscriber(client, mailbox, "q@example.com", ["actualites-produit", "evenements"])
    campaign(runner, tmp_path, "actualites-produit", "Actualités")
    campaign(runner, tmp_path, "evenements", "Événements")
    url = f"/newsletter/desabonnement/{manage_token(person.public_id, 'actualites-produit')}"
    assert app.test_client(use_cookies=False).post(url, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert received(mailbox, "q@example.com", "Actualités") == []
    assert len(received(mailbox, "q@example.com", "Événements")) == 1
    assert sorted(marketing_statuses("q@example.com")) == ["cancelled", "sent"]


def test_a_mailto_unsubscribe_is_recorded_from_its_token(app, client, runner, mailbox, tmp_path):
    app.config["UNSUBSCRIBE_MAILTO"] = "desabonnement@k-inventory.com"
    confirmed_subscriber(client, mailbox, "m@example.com", ["actualites-produit", "evenements"])
    campaign(runner, tmp_path)
    [message] = received(mailbox, "m@example.com")
    mailto = LIST_UNSUBSCRIBE.findall(message["List-Unsubscribe"])[1]
    assert mailto.startswith("mailto:desabonnement@k-inventory.com?")
    [subject] = parse_qs(urlsplit(mailto).query)["subject"]
    assert subject.startswith("unsubscribe ")
    result = runner.invoke(args=["newsletter", "opt-out", "--token", subject.split(" ", 1)[1]])
    assert result.exit_code == 0 and "unsubscribed from actualites-produit" in result.output
    fresh = subscriber("m@example.com")
    assert fresh.slugs_with("active") == ["evenements"]
    event = db.session.scalar(sa.select(SubscriberEvent).where(SubscriberEvent.action == "unsubscribed"))
    assert event.source == "mailto" and event.list_slug == "actualites-produit"
    bad = runner.invoke(args=["newsletter", "opt-out", "--token", subject.split(" ", 1)[1][:-4]])
    assert bad.exit_code != 0 and "not a token of ours" in bad.output


def test_material_policy_notices_reach_confirmed_subscribers_only(app, client, runner, mailbox, policy):
    confirmed_subscriber(client, mailbox, "yes@example.com", ["evenements"])
    subscribe(client, "pending@example.com", ["evenements"])
    left = confirmed_subscriber(client, mailbox, "left@example.com", ["evenements"])
    url = f"/newsletter/desabonnement/{manage_token(left.public_id, 'evenements')}"
    app.test_client(use_cookies=False).post(url, data={"List-Unsubscribe": "One-Click"})
    deliver_mail()
    mailbox.clear()
    result = runner.invoke(args=["policy", "publish", "--file", str(FIRST_VERSION_DIR / "fr.txt"),
                                 "--summary", "Nouvelle finalité.", "--material"])
    assert result.exit_code == 0, result.output
    deliver_mail()
    [notice] = mailbox.to("yes@example.com")
    assert "politique de confidentialité" in notice["Subject"] and "Nouvelle finalité." in text_part(notice)
    assert notice["List-Unsubscribe"] is None, "a legal notice is not marketing"
    assert mailbox.to("pending@example.com") == [] and mailbox.to("left@example.com") == []


@pytest.mark.parametrize("html", [HTML, None], ids=["html", "text-only"])
def test_the_bulk_send_writes_exactly_what_the_builder_writes_for_one_reader(client, mailbox, html):
    french = confirmed_subscriber(client, mailbox, "fr@example.com", ["evenements"])
    english = confirmed_subscriber(client, mailbox, "en@example.com", ["evenements"])
    english.language = "en"
    db.session.commit()
    report = send_campaign("evenements", SUBJECT, TEXT, html)
    assert (report.queued, report.suppressed) == (2, 0)
    builder = MarketingBuilder("evenements", SUBJECT, TEXT, html)
    for person in (french, english):
        row = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.recipient == person.email,
                                                               OutboxMessage.kind == "marketing"))
        expected = builder.build(person.email, person.public_id, person.language)
        content = message_content(row)
        feedback = f"{report.campaign_id}:evenements:newsletter:localhost"
        campaign_headers = {**expected["headers"], "Feedback-ID": feedback}
        assert (row.subject, content.body_text, content.body_html, content.headers) == (
            expected["subject"], expected["body_text"], expected["body_html"], campaign_headers)
        assert (row.body_text, row.body_html, row.headers) == ("", None, {}), "the body is stored once, not per row"
        assert row.status == "pending" and row.message_id.endswith("@localhost>")
    deliver_mail()
    [message] = [m for m in mailbox.to("en@example.com") if m["Subject"] == SUBJECT]
    body = text_part(message)
    assert "Unsubscribe: http://localhost/newsletter/desabonnement/" in body and "?lang=en" in body
    [link] = links(message, "/newsletter/desabonnement/")
    assert "Unsubscribe me" in client.get(path_of(link)).get_data(as_text=True)
