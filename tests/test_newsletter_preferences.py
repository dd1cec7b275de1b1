"""The preference centre, the data map entry, policy notices, retention and the staff commands."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.database import AppendOnlyError, utcnow
from app.datamap import Person, covered_models, data_map, export_person
from app.extensions import db
from app.newsletter.links import manage_token
from app.newsletter.models import Subscriber, SubscriberEvent, Subscription
from app.policy.services import notice_recipients_wanted
from app.suppression.services import is_suppressed
from tests.conftest import deliver_mail, submit_form
from tests.support.newsletter import confirmed_subscriber, latest_mail, links, path_of, subscribe, subscriber


@pytest.fixture
def person(client, mailbox):
    """A confirmed subscriber of « Actualités produit », with SMS."""
    return confirmed_subscriber(client, mailbox, "pref@example.com", ["actualites-produit"], phone="0612345678")


def preferences_url(person) -> str:
    """The preference centre of a subscriber, as linked from every e-mail."""
    return f"/newsletter/preferences/{manage_token(person.public_id, 'actualites-produit')}"


def save(client, url: str, **fields):
    """Submit the preference centre's form."""
    data = {"action": "save", **{key: value for key, value in fields.items() if value is not None}}
    return submit_form(client, url, data)


def test_the_page_shows_toggles_and_the_history(client, person):
    html = client.get(preferences_url(person)).get_data(as_text=True)
    assert "pref@example.com" in html and "+33612345678" in html
    assert 'name="email_on"' in html and 'name="sms_on"' in html and html.count('name="lists"') == 2
    assert "Me désabonner de tout" in html and "Historique de vos consentements" in html
    assert "Demande d’inscription" in html and "Consentement confirmé" in html and "formulaire du site" in html


def test_turning_a_list_off_is_immediate_and_on_needs_a_new_confirmation(client, mailbox, person):
    url = preferences_url(person)
    response = save(client, url, email_on="y", lists=["evenements"], sms_on="y")
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Vos préférences sont enregistrées." in page and "confirmez avec le lien" in page
    fresh = subscriber("pref@example.com")
    assert fresh.subscription("actualites-produit").status == "unsubscribed"
    assert fresh.subscription("evenements").status == "pending"
    assert is_suppressed("email", email="pref@example.com"), "no active list left until the new one is confirmed"
    [confirm] = links(latest_mail(mailbox, "pref@example.com"), "/newsletter/confirmer/")
    submit_form(client, path_of(confirm), {})
    fresh = subscriber("pref@example.com")
    assert fresh.subscription("evenements").status == "active" and not is_suppressed("email", email="pref@example.com")


def test_saving_twice_does_not_mail_twice(client, mailbox, person):
    url = preferences_url(person)
    save(client, url, email_on="y", lists=["actualites-produit", "evenements"], sms_on="y")
    save(client, url, email_on="y", lists=["actualites-produit", "evenements"], sms_on="y")
    deliver_mail()
    confirmations = [m for m in mailbox.to("pref@example.com") if "Confirmez" in m["Subject"]]
    assert len(confirmations) == 2, "one at subscription, one for the added list"


def test_the_sms_toggle_opts_the_number_out(client, person):
    save(client, preferences_url(person), email_on="y", lists=["actualites-produit"])
    fresh = subscriber("pref@example.com")
    assert fresh.sms_status == "unsubscribed" and fresh.email_status == "confirmed"
    assert is_suppressed("sms", phone="+33612345678") and not is_suppressed("email", email="pref@example.com")


def test_the_email_toggle_turns_every_list_off(client, person):
    save(client, preferences_url(person), lists=["actualites-produit"], sms_on="y")
    fresh = subscriber("pref@example.com")
    assert fresh.slugs_with("active") == [] and fresh.email_status == "unsubscribed"
    assert is_suppressed("email", email="pref@example.com") and fresh.sms_status == "confirmed"


def test_unsubscribe_from_everything(client, person):
    url = preferences_url(person)
    response = submit_form(client, url, {"action": "everything", "email_on": "y", "lists": ["actualites-produit"]})
    assert "Vous êtes désabonné de tout" in client.get(response.headers["Location"]).get_data(as_text=True)
    fresh = subscriber("pref@example.com")
    assert fresh.email_status == "unsubscribed" and fresh.sms_status == "unsubscribed"
    assert is_suppressed("email", email="pref@example.com") and is_suppressed("sms", phone="+33612345678")
    html = client.get(url).get_data(as_text=True)
    assert "Désabonnement" in html and "centre de préférences" in html


def test_an_unknown_list_is_refused(client, person):
    response = save(client, preferences_url(person), email_on="y", lists=["inconnue"])
    assert response.status_code == 400 and "Cette liste n’existe pas." in response.get_data(as_text=True)
    assert subscriber("pref@example.com").subscription("actualites-produit").status == "active"


def test_the_form_refuses_another_sites_post(client, person):
    response = client.post(preferences_url(person), data={"action": "everything"},
                           headers={"Origin": "https://attacker.example"})
    assert response.status_code == 403
    assert subscriber("pref@example.com").email_status == "confirmed"


def test_a_bad_token_gets_the_400_page(client):
    response = client.get("/newsletter/preferences/abc.def")
    assert response.status_code == 400 and "Lien invalide" in response.get_data(as_text=True)


def test_preferences_of_an_erased_subscriber(client, person):
    url = preferences_url(person)
    db.session.execute(sa.delete(SubscriberEvent))
    db.session.execute(sa.delete(Subscription))
    db.session.execute(sa.delete(Subscriber))
    db.session.commit()
    response = client.get(url)
    assert response.status_code == 404 and "Inscription introuvable" in response.get_data(as_text=True)


def test_the_preference_centre_in_english(client, person):
    html = client.get(preferences_url(person) + "?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html and "Unsubscribe from everything" in html and "Subscription requested" in html


def test_the_event_log_is_append_only(app, person):
    event = db.session.scalar(sa.select(SubscriberEvent))
    event.action = "forged"
    with pytest.raises(AppendOnlyError):
        db.session.commit()
    db.session.rollback()
    with pytest.raises(AppendOnlyError):
        db.session.delete(db.session.scalar(sa.select(SubscriberEvent)))
        db.session.commit()
    db.session.rollback()


def test_the_data_map_exports_everything_about_the_person(app, person):
    assert {Subscriber, Subscription, SubscriberEvent} <= covered_models()
    assert "newsletter" in data_map()
    [exported] = export_person(Person(email="pref@example.com"))["newsletter"]
    assert exported["email"] == "pref@example.com" and exported["phone"] == "+33612345678"
    assert exported["email_status"] == "confirmed" and exported["email_consent_at"]
    assert exported["lists"][0]["list"] == "actualites-produit" and exported["lists"][0]["consented_at"]
    assert [h["action"] for h in exported["history"]][:1] == ["subscribe_requested"]
    assert export_person(Person(phone="06 12 34 56 78"))["newsletter"][0]["email"] == "pref@example.com"
    assert export_person(Person(email="other@example.com"))["newsletter"] == []


def test_confirmed_subscribers_receive_material_policy_notices(client, mailbox, person):
    subscribe(client, "pending@example.com", ["evenements"])
    [(_receiver, recipients)] = notice_recipients_wanted.send(None)
    assert "pref@example.com" in recipients and "pending@example.com" not in recipients


def test_purge_deletes_old_unconfirmed_requests_and_keeps_the_opt_out_list(client, runner, mailbox, person):
    subscribe(client, "never@example.com", ["evenements"])
    old = utcnow() - timedelta(days=31)
    db.session.execute(sa.update(Subscriber).where(Subscriber.email == "never@example.com").values(created_at=old))
    events = SubscriberEvent.__table__  # the request's own step too: 30 days count from the last request
    db.session.execute(events.update().where(events.c.subscriber_id == subscriber("never@example.com").id).values(
        occurred_at=old))
    db.session.commit()
    result = runner.invoke(args=["newsletter", "purge"])
    assert result.exit_code == 0 and "subscribers deleted: 1" in result.output
    assert subscriber("never@example.com") is None and subscriber("pref@example.com") is not None


def test_staff_record_an_opt_out_received_by_mail(runner, person):
    result = runner.invoke(args=["newsletter", "opt-out", "--email", "Pref@Example.com", "--phone", "0612345678"])
    assert result.exit_code == 0, result.output
    fresh = subscriber("pref@example.com")
    assert fresh.email_status == "unsubscribed" and fresh.sms_status == "unsubscribed"
    assert is_suppressed("email", email="pref@example.com") and is_suppressed("sms", phone="+33612345678")
    assert runner.invoke(args=["newsletter", "opt-out", "--phone", "12"]).exit_code != 0
    assert runner.invoke(args=["newsletter", "opt-out"]).exit_code != 0


def test_the_lists_command_counts_subscribers(runner, person):
    result = runner.invoke(args=["newsletter", "lists"])
    assert "actualites-produit: 1 active, 0 pending" in result.output and "evenements: 0 active" in result.output


def test_the_newsletter_page_carries_no_token_and_is_the_same_for_everyone(client):
    response = client.get("/newsletter")
    html = response.get_data(as_text=True)
    assert 'name="csrf_token"' not in html and "Set-Cookie" not in response.headers
    assert client.get("/newsletter").get_data(as_text=True) == html
    assert html.count('id="email"') == 1 and html.count('id="link-email"') == 1
