"""The staff back-office: who may see and do what, and each action's effect as the requester sees it."""

import io
import json
import re
import zipfile
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.consent.models import ConsentRecord, ConsentSubject
from app.datamap import Person, data_map, export_person
from app.extensions import db
from app.newsletter.models import Subscriber
from app.rights.deadlines import extended_date
from app.rights.models import PostMortemDirective, RightsRequest
from app.suppression.models import Suppression
from app.suppression.services import is_suppressed, suppression_reasons
from tests.conftest import csrf_token, submit_form
from tests.support.newsletter import confirmed_subscriber, latest_mail, links, path_of, text_part
from tests.support.rights import confirmed_request, send_request, staff_action, staff_client, stored_request

EMAIL = "jeanne@example.fr"
STAFF_ACTIONS = ("note", "demarrer", "dossier", "effacer", "rectifier", "opposition", "limitation", "lever-limitation",
                 "directives", "prolonger", "refuser", "repondre", "passer-outre")


def visible(html: str) -> str:
    """The page's text without tags."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("\u202f", " ").replace("\u00a0", " ")


def test_anonymous_visitors_are_sent_to_the_login_page(client, mailbox):
    send_request(client)
    reference = stored_request().reference
    for path in ("/admin/", f"/admin/demandes/{reference}"):
        response = client.get(path)
        assert response.status_code == 302 and "/admin/connexion" in response.headers["Location"]
    response = client.post(f"/admin/demandes/{reference}/repondre", data={"text": "x"})
    assert response.status_code in (302, 400)
    assert stored_request().status == "unconfirmed"


def test_a_wrong_password_gets_one_message_for_any_wrong_part(app):
    staff_client(app, "agent")
    client = app.test_client()
    for email, password in (("agent@k-inventory.com", "wrong password!"), ("nobody@k-inventory.com", "x" * 12)):
        response = submit_form(client, "/admin/connexion", {"email": email, "password": password})
        assert response.status_code == 400
        assert "Adresse e-mail ou mot de passe incorrect." in response.get_data(as_text=True)


def test_the_queue_sorts_by_deadline_and_marks_overdue_and_due_soon(app, client, mailbox):
    for address, days_ago in (("late@example.fr", 40), ("soon@example.fr", 25), ("fresh@example.fr", 0)):
        send_request(client, address)
        row = stored_request(address)
        row.received_at -= timedelta(days=days_ago)
        row.due_on -= timedelta(days=days_ago)
        db.session.commit()
    page = staff_client(app).get("/admin/").get_data(as_text=True)
    late, soon, fresh = (stored_request(a).reference for a in ("late@example.fr", "soon@example.fr",
                                                                 "fresh@example.fr"))
    assert page.index(late) < page.index(soon) < page.index(fresh)
    assert "En retard" in page and "Sous 7 jours" in page
    filtered = staff_client(app, email="other@k-inventory.com").get("/admin/?type=erasure").get_data(as_text=True)
    assert late not in filtered


@pytest.mark.parametrize("action", STAFF_ACTIONS)
def test_every_staff_action_needs_the_csrf_token(app, client, mailbox, action):
    reference = confirmed_request(client, mailbox).reference
    staff = staff_client(app, "dpo")
    response = staff.post(f"/admin/demandes/{reference}/{action}", data={"text": "x", "reason": "x", "months": "1"})
    assert response.status_code == 400
    assert [e.action for e in stored_request().events] == ["received", "confirmed"]


def test_data_is_not_handed_over_before_the_address_is_confirmed(app, client, mailbox):
    send_request(client)
    staff = staff_client(app)
    response = staff_action(staff, stored_request().reference, "dossier")
    assert response.status_code == 409
    assert "n’a pas encore confirmé son adresse" in visible(response.get_data(as_text=True))
    assert not stored_request().packages


def person_who_subscribed_consented_and_wrote(client, mailbox) -> RightsRequest:
    """Jeanne accepts cookies, subscribes to the newsletter, and asks for her data."""
    confirmed_subscriber(client, mailbox, EMAIL, phone="06 12 34 56 78")
    db.session.add(ConsentRecord(consent_id="c-1", choices={"analytics": True}, register_version="1", action="custom",
                                 source="banner", channel="no-js"))
    from app.consent.services import link_consent_to_person

    link_consent_to_person("c-1", EMAIL)
    db.session.commit()
    return confirmed_request(client, mailbox, kind="access", phone="06 12 34 56 78")


def test_the_data_package_holds_every_kind_of_data_and_a_french_readme(app, client, mailbox):
    reference = person_who_subscribed_consented_and_wrote(client, mailbox).reference
    staff = staff_client(app)
    assert staff_action(staff, reference, "dossier").status_code == 303
    message = latest_mail(mailbox, EMAIL)
    [link] = links(message, "/demande/dossier/")
    assert "7 jours" in text_part(message)
    response = client.get(path_of(link))
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = set(archive.namelist())
    for kind in ("newsletter", "consentements_cookies", "demandes_droits", "emails_envoyes"):
        assert {f"{kind}.json", f"{kind}.csv"} <= names
    newsletter = json.loads(archive.read("newsletter.json"))
    assert newsletter[0]["email"] == EMAIL and newsletter[0]["phone"] == "+33612345678"
    assert json.loads(archive.read("consentements_cookies.json"))[0]["consent_id"] == "c-1"
    assert "Jeanne Martin" in archive.read("demandes_droits.csv").decode()
    readme = archive.read("LISEZ-MOI.txt").decode()
    for heading in ("Finalité", "Base légale", "Destinataires", "Durée de conservation", "CNIL"):
        assert heading in readme
    assert "Consentement" in readme and "Obligation légale" in readme


def test_a_tampered_or_expired_download_link_gets_a_400_page(app, client, mailbox):
    reference = confirmed_request(client, mailbox).reference
    staff_action(staff_client(app), reference, "dossier")
    [link] = links(latest_mail(mailbox, EMAIL), "/demande/dossier/")
    assert client.get(path_of(link)[:-2]).status_code == 400
    package = stored_request().packages[0]
    package.expires_at -= timedelta(days=8)
    db.session.commit()
    response = client.get(path_of(link))
    assert response.status_code == 400 and "Lien expiré" in response.get_data(as_text=True)


def test_only_the_dpo_may_erase_and_erasure_keeps_only_the_opt_out_and_the_request(app, client, mailbox):
    person_who_subscribed_consented_and_wrote(client, mailbox)
    reference = confirmed_request(client, mailbox, kind="objection", phone="06 12 34 56 78").reference
    staff_action(staff_client(app, "agent"), reference, "opposition")
    erasure = confirmed_request(client, mailbox, kind="erasure").reference
    agent = staff_client(app, "agent", email="agent2@k-inventory.com")
    refused = staff_action(agent, erasure, "effacer")
    assert refused.status_code == 409 and "Seul le délégué" in visible(refused.get_data(as_text=True))
    assert db.session.scalar(sa.select(Subscriber).where(Subscriber.email == EMAIL)) is not None

    assert staff_action(staff_client(app, "dpo"), erasure, "effacer", confirmed="1").status_code == 303
    db.session.expire_all()
    held = export_person(Person(email=EMAIL, phone="+33612345678"))
    remaining = {kind: rows for kind, rows in held.items() if rows}
    assert set(remaining) == {"liste_opposition", "demandes_droits"}
    assert [r["reference"] for r in remaining["demandes_droits"]] == [erasure]
    assert is_suppressed("email", email=EMAIL) and is_suppressed("sms", phone="+33612345678")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ConsentSubject)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ConsentRecord)) == 1  # pseudonymous proof
    erased = [e for e in stored_request().events if e.action == "erased"]
    assert erased and erased[0].detail["counts"]["newsletter"] == 1


def test_objection_opts_the_person_out_of_every_channel(app, client, mailbox):
    confirmed_subscriber(client, mailbox, EMAIL, phone="06 12 34 56 78")
    reference = confirmed_request(client, mailbox, kind="withdrawal", phone="06 12 34 56 78").reference
    assert staff_action(staff_client(app), reference, "opposition").status_code == 303
    db.session.expire_all()
    subscriber = db.session.scalar(sa.select(Subscriber).where(Subscriber.email == EMAIL))
    assert subscriber.email_status != "confirmed" and subscriber.sms_status != "confirmed"
    assert is_suppressed("email", email=EMAIL) and is_suppressed("sms", phone="+33612345678")


def test_restriction_blocks_marketing_until_lifted(app, client, mailbox):
    reference = confirmed_request(client, mailbox, kind="restriction").reference
    staff = staff_client(app)
    staff_action(staff, reference, "limitation")
    assert suppression_reasons("email", email=EMAIL) == {"restriction"}
    staff_action(staff, reference, "lever-limitation")
    assert not is_suppressed("email", email=EMAIL)
    actions = [e.action for e in stored_request().events]
    assert actions[-2:] == ["restricted", "restriction_lifted"]


def test_rectification_keeps_before_and_after_in_the_log(app, client, mailbox):
    confirmed_subscriber(client, mailbox, EMAIL)
    reference = confirmed_request(client, mailbox, kind="rectification", correction="Mon adresse a changé").reference
    staff = staff_client(app)
    response = staff_action(staff, reference, "rectifier", name="Jeanne Durand", email="jeanne.durand@example.fr")
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.scalar(sa.select(Subscriber.email).where(Subscriber.email == "jeanne.durand@example.fr"))
    row = db.session.scalar(sa.select(RightsRequest).where(RightsRequest.reference == reference))
    assert (row.name, row.email) == ("Jeanne Durand", "jeanne.durand@example.fr")
    [event] = [e for e in row.events if e.action == "rectified"]
    changes = {c["field"]: (c["before"], c["after"]) for c in event.detail["changes"]}
    assert changes == {"name": ("Jeanne Martin", "Jeanne Durand"), "email": (EMAIL, "jeanne.durand@example.fr")}
    timeline = visible(staff.get(f"/admin/demandes/{reference}").get_data(as_text=True))
    assert "Données rectifiées" in timeline and "agent@k-inventory.com" in timeline


def test_post_mortem_directives_are_stored_and_revocable(app, client, mailbox):
    reference = confirmed_request(client, mailbox, kind="post_mortem", designated_name="Paul Martin",
                                  designated_contact="paul@example.fr").reference
    staff = staff_client(app)
    staff_action(staff, reference, "directives")
    directive = db.session.scalar(sa.select(PostMortemDirective))
    assert (directive.designated_name, directive.revoked_at) == ("Paul Martin", None)
    page = staff.get(f"/admin/demandes/{reference}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    staff.post(f"/admin/directives/{directive.id}/revoquer", data={"csrf_token": token})
    db.session.expire_all()
    assert db.session.get(PostMortemDirective, directive.id).revoked_at is not None


def test_extension_within_the_first_month_tells_the_requester(app, client, mailbox):
    row = confirmed_request(client, mailbox)
    staff = staff_client(app)
    typed = staff_action(staff, row.reference, "prolonger", months="2", reason="")
    assert typed.status_code == 400 and "Indiquez le motif" in typed.get_data(as_text=True)
    assert staff_action(staff, row.reference, "prolonger", months="2", reason="Demande complexe").status_code == 303
    row = stored_request()
    assert row.status == "extended" and row.extended_to == extended_date(row.received_at, 2)
    body = text_part(latest_mail(mailbox, EMAIL))
    assert "Demande complexe" in body and "prolongeons le délai" in body
    again = staff_action(staff, row.reference, "prolonger", months="1", reason="Encore")
    assert again.status_code in (404, 409)


def test_extension_after_the_first_month_is_refused(app, client, mailbox):
    row = confirmed_request(client, mailbox)
    row.received_at -= timedelta(days=40)
    row.due_on -= timedelta(days=40)
    db.session.commit()
    response = staff_action(staff_client(app), row.reference, "prolonger", months="1", reason="Trop tard")
    assert response.status_code == 409 and "trop tard" in visible(response.get_data(as_text=True))


def test_only_the_dpo_may_refuse_and_the_requester_hears_of_the_cnil(app, client, mailbox):
    reference = confirmed_request(client, mailbox).reference
    agent = staff_action(staff_client(app, "agent"), reference, "refuser", reason="Demandes répétées")
    assert agent.status_code == 409
    assert staff_action(staff_client(app, "dpo"), reference, "refuser", reason="Demandes répétées",
                        confirmed="1").status_code == 303
    body = text_part(latest_mail(mailbox, EMAIL))
    assert "Demandes répétées" in body and "CNIL" in body
    assert stored_request().status == "refused"


def test_answering_closes_the_request_and_the_status_page_shows_the_answer(app, client, mailbox):
    send_request(client)
    message = latest_mail(mailbox, EMAIL)
    [status_link] = [u for u in links(message, "/demande/") if "confirmer" not in u]
    [confirm_link] = links(message, "/demande/confirmer/")
    submit_form(client, path_of(confirm_link), {})
    staff_action(staff_client(app), stored_request().reference, "repondre", text="Voici notre réponse.")
    assert "Voici notre réponse." in text_part(latest_mail(mailbox, EMAIL))
    page = visible(client.get(path_of(status_link)).get_data(as_text=True))
    assert "Répondue" in page and "Voici notre réponse." in page


def test_remind_mails_staff_the_requests_due_within_7_days_or_overdue(app, client, runner, mailbox):
    send_request(client, "late@example.fr")
    send_request(client, "fresh@example.fr")
    late = stored_request("late@example.fr")
    late.due_on -= timedelta(days=40)
    db.session.commit()
    staff_client(app, "dpo")
    result = runner.invoke(args=["rights", "remind"])
    assert "1 request(s)" in result.output and "1 staff member(s)" in result.output
    body = text_part(latest_mail(mailbox, "dpo@k-inventory.com"))
    assert late.reference in body and "EN RETARD" in body
    assert stored_request("fresh@example.fr").reference not in body


def test_create_staff_asks_the_password_twice(runner):
    result = runner.invoke(args=["users", "create-staff", "dpo@k-inventory.com", "--role", "dpo"],
                           input="a long enough password\na long enough password\n")
    assert result.exit_code == 0, result.output
    mismatch = runner.invoke(args=["users", "create-staff", "x@k-inventory.com"],
                             input="a long enough password\nanother password!!\n" * 1)
    assert mismatch.exit_code != 0


def test_every_kind_of_personal_data_is_in_the_data_map(app):
    assert {"newsletter", "consentements_cookies", "demandes_droits", "directives_post_mortem",
            "liste_opposition", "emails_envoyes"} <= set(data_map())
    assert Suppression


def test_the_status_page_offers_the_data_package_while_it_lasts(app, client, mailbox):
    send_request(client)
    message = latest_mail(mailbox, EMAIL)
    [status_link] = [u for u in links(message, "/demande/") if "confirmer" not in u and "dossier" not in u]
    submit_form(client, path_of(links(message, "/demande/confirmer/")[0]), {})
    staff_action(staff_client(app), stored_request().reference, "dossier")
    page = client.get(path_of(status_link)).get_data(as_text=True)
    [download] = re.findall(r'href="(/demande/dossier/[^"]+)"', page)
    assert client.get(download).mimetype == "application/zip"


def test_the_login_is_rate_limited(client):
    token = csrf_token(client.get("/admin/connexion").get_data(as_text=True))
    codes = [client.post("/admin/connexion", data={"csrf_token": token, "email": f"x{n}@k-inventory.com",
                                                   "password": "wrong"}).status_code for n in range(6)]
    assert codes[:5] == [400] * 5 and codes[-1] == 429
    assert "Trop de requêtes" in client.post("/admin/connexion", data={"csrf_token": token}).get_data(as_text=True)


def test_the_contact_form_is_rate_limited(client):
    token = csrf_token(client.get("/contact").get_data(as_text=True))
    codes = [client.post("/contact", data={"csrf_token": token, "email": "x"}).status_code for _ in range(6)]
    assert codes[:5] == [400] * 5 and codes[-1] == 429


TYPED = "Quidam Xavéri"  # the name typed into the contact form: no mail may say it back


def requester_mails(mailbox, address: str) -> list[tuple[bytes, str]]:
    """Every message to the requester: its raw bytes as received, and its decoded text."""
    latest_mail(mailbox, address)
    return [(raw, text_part(message)) for raw, message in zip(mailbox.raw_to(address), mailbox.to(address),
                                                              strict=True)]


def assert_greets_without_the_name(mails: list[tuple[bytes, str]], greeting: str) -> None:
    """Each mail opens with the greeting alone; the name is in neither the bytes nor the decoded text."""
    for raw, text in mails:
        assert text.splitlines()[0] == greeting
        assert b"Quidam" not in raw and b"Xav" not in raw and "Quidam" not in text


def test_mails_to_the_requester_greet_without_the_typed_name(app, client, mailbox):
    reference = confirmed_request(client, mailbox, name=TYPED).reference
    staff = staff_client(app, "dpo")
    for action, data in (("prolonger", {"months": "1", "reason": "Demande complexe"}), ("dossier", {}),
                         ("repondre", {"text": "Voici notre réponse."})):
        assert staff_action(staff, reference, action, **data).status_code == 303
    mails = requester_mails(mailbox, EMAIL)
    assert len(mails) == 4  # acknowledgement, extension, data package, answer
    assert_greets_without_the_name(mails, "Bonjour,")
    assert send_request(client, "jane@example.com", url="/en/contact", name=TYPED).status_code == 303
    submit_form(client, path_of(links(latest_mail(mailbox, "jane@example.com"), "/request/confirm/")[0]), {})
    english = stored_request("jane@example.com").reference
    assert staff_action(staff, english, "refuser", reason="Demandes répétées", confirmed="1").status_code == 303
    mails = requester_mails(mailbox, "jane@example.com")
    assert len(mails) == 2 and "CNIL" in mails[-1][1]
    assert_greets_without_the_name(mails, "Hello,")


def test_refusal_and_erasure_first_say_what_will_happen_and_act_only_once_confirmed(app, client, mailbox):
    person_who_subscribed_consented_and_wrote(client, mailbox)
    refused = confirmed_request(client, mailbox).reference
    erasure = confirmed_request(client, mailbox, kind="erasure").reference
    dpo = staff_client(app, "dpo")
    asked = staff_action(dpo, refused, "refuser", reason="Demandes répétées")
    page = visible(asked.get_data(as_text=True))
    assert asked.status_code == 200 and "sera refusée et close" in page and "CNIL" in page
    assert "Demandes répétées" in page and 'name="reason" value="Demandes répétées"' in asked.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(sa.select(RightsRequest.status).where(RightsRequest.reference == refused)) == "confirmed"
    assert 'name="confirmed" value="1"' in asked.get_data(as_text=True)
    asked = staff_action(dpo, erasure, "effacer")
    page = visible(asked.get_data(as_text=True))
    assert asked.status_code == 200 and "sans retour possible" in page and "Confirmer l’effacement" in page
    assert db.session.scalar(sa.select(Subscriber).where(Subscriber.email == EMAIL)) is not None
    assert "Newsletter" in page or "newsletter" in page  # the kinds of data held today, by their register title
    assert staff_action(dpo, erasure, "effacer", confirmed="1").status_code == 303
    assert db.session.scalar(sa.select(Subscriber).where(Subscriber.email == EMAIL)) is None


def test_the_extension_has_no_length_chosen_in_advance(app, client, mailbox):
    reference = confirmed_request(client, mailbox).reference
    dpo = staff_client(app, "dpo")
    html = dpo.get(f"/admin/demandes/{reference}").get_data(as_text=True)
    assert re.findall(r'<input[^>]*name="months"[^>]*>', html) and "checked" not in " ".join(
        re.findall(r'<input[^>]*name="months"[^>]*>', html))
    response = staff_action(dpo, reference, "prolonger", reason="Demande complexe")
    assert response.status_code == 400 and "Choisissez la durée." in visible(response.get_data(as_text=True))
    assert 'href="#months-0"' in response.get_data(as_text=True)


def test_the_history_reads_as_sentences_not_json(app, client, mailbox):
    reference = confirmed_request(client, mailbox).reference
    dpo = staff_client(app, "dpo")
    assert staff_action(dpo, reference, "prolonger", months="1", reason="Demande complexe").status_code == 303
    assert staff_action(dpo, reference, "note", text="Appel reçu.").status_code == 303
    html = dpo.get(f"/admin/demandes/{reference}").get_data(as_text=True)
    history = visible(html.split('class="timeline"', 1)[1])
    assert "Type : Accès à vos données" in history and "Prolongé de 1 mois" in history
    assert "Nouvelle échéance : " in history and "Motif : Demande complexe" in history and "Appel reçu." in history
    assert "{" not in history and "&#34;" not in html
