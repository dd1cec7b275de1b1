"""The dpo publishes a version from the back-office (preview, changes, publication); visitors read what changed."""

import io
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.mail.models import OutboxMessage
from app.policy.diff import paragraph_diff
from app.policy.services import all_versions, publish
from tests.conftest import csrf_token
from tests.support.newsletter import confirmed_subscriber
from tests.support.pages import axe_violations, vnu_errors
from tests.support.rights import staff_client
from tests.support.screenshots import pictures_folder

URL = "/admin/politique"
SEED = Path(__file__).resolve().parent.parent / "content" / "policy" / "v1" / "fr.txt"
ONE_MONTH = "dans les meilleurs délais et en tout état de cause dans un délai d’un mois"
NEW_SENTENCE = "Nous utilisons Twilio pour les SMS\u00a0; ses serveurs peuvent être aux États-Unis."


def revised() -> str:
    """The seed with one sentence changed and one paragraph added at the end of section 5."""
    text = SEED.read_text(encoding="utf-8")
    changed = text.replace(ONE_MONTH, "dans un délai d’un mois, prolongeable de deux mois")
    return changed.replace("\n6- ", f"\n{NEW_SENTENCE}\n\n6- ", 1)


def post(client, data: dict, **files):
    """Post the publication form with the page's CSRF token, as a browser sends it (multipart)."""
    token = csrf_token(client.get(URL).get_data(as_text=True))
    fields = {"csrf_token": token, "summary": "", "text_fr": "", "text_en": "", **data}
    fields.update({name: (io.BytesIO(content), f"{name}.txt") for name, content in files.items()})
    return client.post(URL, data=fields, content_type="multipart/form-data")


def test_the_diff_marks_paragraphs_added_and_deleted_under_their_section():
    hunks = paragraph_diff("Titre\n1- Un\nA\nB\n2- Deux\nC", "Titre\n1- Un\nA\nB bis\n2- Deux\nC\n- D")
    assert [(h.section, h.removed, h.added) for h in hunks] == [("1- Un", ["B"], ["B bis"]), ("2- Deux", [], ["- D"])]


def test_a_reworded_paragraph_shows_its_words_deleted_and_added_in_place():
    [hunk] = paragraph_diff("Titre\n1- Un\nNous répondons sous un mois.",
                            "Titre\n1- Un\nNous répondons sous trois mois.")
    assert (hunk.section, hunk.removed, hunk.added) == ("1- Un", [], [])
    assert [(piece.kind, piece.text) for piece in hunk.reworded[0]] == [
        ("same", "Nous répondons sous "), ("removed", "un"), ("added", "trois"), ("same", " mois.")]


def test_only_the_dpo_publishes(app, policy):
    assert staff_client(app, "agent").get(URL).status_code == 403
    assert staff_client(app, "dpo").get(URL).status_code == 200
    assert app.test_client().get(URL).status_code == 302


def test_the_preview_shows_the_text_as_visitors_will_and_what_changes_without_publishing(app, policy):
    response = post(staff_client(app, "dpo"), {"summary": "Délais et SMS.", "text_fr": revised()})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and len(all_versions()) == 1
    assert "Ce qui change par rapport à la version 1" in html and "Publier la version 2" in html
    reworded = re.search(r'<p class="diff-reworded">.*?</p>', html, re.S).group(0)
    assert "Modifié" in reworded and "Conformément à la réglementation" in reworded
    assert re.search(r"<del>[^<]*tout état de cause[^<]*</del>", reworded)
    assert re.search(r"<ins>[^<]*prolongeable de deux[^<]*</ins>", reworded)
    added = re.findall(r'<p class="diff-added"><ins>.*?</ins></p>', html, re.S)
    assert len(added) == 1 and "Twilio pour les SMS" in added[0] and "Ajouté" in added[0]
    assert 'class="wrap policy"' in html and 'id="partage-title"' in html  # the visitors' article, typeset


def test_a_policy_three_times_as_long_with_its_translation_is_previewed(app, policy):
    sections = SEED.read_text(encoding="utf-8").split("\n", 1)[1]
    longer = revised() + ("\n\n" + sections) * 2  # every section three times, about 40 KB
    response = post(staff_client(app, "dpo"), {"summary": "Texte allongé.", "text_fr": longer, "text_en": longer})
    assert len(longer.encode()) * 2 > 64 * 1024, "over the site's usual form limit"
    assert response.status_code == 200 and "Publier la version 2" in response.get_data(as_text=True)


def test_the_preview_shows_the_english_translation_too(app, policy):
    english = (SEED.parent / "en.txt").read_text(encoding="utf-8")
    html = post(staff_client(app, "dpo"), {"summary": "Avec traduction.", "text_fr": revised(),
                                           "text_en": english}).get_data(as_text=True)
    assert "Aperçu de la traduction anglaise" in html and '<article class="wrap policy" lang="en">' in html
    assert english.splitlines()[0].strip() in html


def test_a_material_publication_notifies_confirmed_subscribers_and_is_journaled(app, client, mailbox, policy):
    confirmed_subscriber(client, mailbox, "abonne@example.org")
    dpo = staff_client(app, "dpo")
    response = post(dpo, {"summary": "Délais et SMS.", "text_fr": revised(), "material": "y", "action": "publish"})
    assert response.status_code == 303
    version = all_versions()[0]
    assert (version.number, version.published_by, version.material) == (2, "dpo@k-inventory.com", True)
    assert [m.recipient for m in OutboxMessage.query.filter(OutboxMessage.subject.contains("politique"))] == [
        "abonne@example.org"]
    page = dpo.get(URL).get_data(as_text=True)
    assert "Version 2 publiée" in page and "dpo@k-inventory.com" in page and "ligne de commande" in page


def test_an_uploaded_text_is_published_with_its_translation(app, policy):
    english = (SEED.parent / "en.txt").read_bytes()
    response = post(staff_client(app, "dpo"), {"summary": "Depuis des fichiers.", "action": "publish"},
                    file_fr=revised().encode("utf-8"), file_en=english)
    assert response.status_code == 303
    assert all_versions()[0].text_en.startswith(english.decode("utf-8").strip()[:40])


@pytest.mark.parametrize("data, files, message", [
    ({"text_fr": "Titre\n1- Un\nTexte."}, {}, "Résumez les modifications"),
    ({"summary": "Vide."}, {}, "Le texte français et le résumé des modifications sont tous deux requis."),
    ({"summary": "Sans section.", "text_fr": "Un titre\nUn paragraphe."}, {}, "aucune section numérotée"),
    ({"summary": "Mauvais fichier."}, {"file_fr": "Politique en Latin-1 : données".encode("latin-1")},
     "n’est pas un texte en UTF-8"),
])
def test_a_bad_publication_says_why_in_french_keeps_the_typing_and_publishes_nothing(app, policy, data, files,
                                                                                     message):
    response = post(staff_client(app, "dpo"), {**data, "action": "publish"}, **files)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and message in html and "Rien n’a été publié" in html
    assert len(all_versions()) == 1
    for value in data.values():
        assert value.split("\n")[0] in html


def test_visitors_read_what_changed_beside_each_version_without_javascript(client, policy):
    publish(revised(), "Délais et SMS.")
    listing = client.get("/confidentialite/versions").get_data(as_text=True)
    assert 'href="/confidentialite/versions/2/changements"' in listing and "Ce qui a changé" in listing
    page = client.get("/confidentialite/versions/2/changements")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<script" not in html.split("<main", 1)[-1].split("</main>")[0]
    assert "<del>" in html and "<ins>" in html and "Twilio pour les SMS" in html
    assert client.get("/confidentialite/versions/1/changements").status_code == 404
    assert client.get("/en/privacy/versions/2/changes").status_code == 200


def test_the_changes_page_is_the_same_bytes_for_every_visitor_of_a_variant(client, policy):
    publish(revised(), "Délais et SMS.")
    first = client.get("/confidentialite/versions/2/changements").data
    assert client.get("/confidentialite/versions/2/changements").data == first


@pytest.mark.fuzz
def test_generated_values_in_the_publication_form(make_app, mailbox):
    app = make_app(RATELIMIT_ENABLED=False)
    with app.app_context():
        from app.policy.services import load_first_version

        load_first_version()
        dpo = staff_client(app, "dpo")

        @settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
        @given(st.fixed_dictionaries({"summary": st.text(max_size=80), "text_fr": st.text(max_size=300),
                                      "text_en": st.text(max_size=80), "action": st.sampled_from(["preview", ""])}))
        def submit(data):
            response = post(dpo, data)
            assert response.status_code in (200, 400)
            assert len(all_versions()) == 1

        submit()


SMALL_SCREEN = {"width": 320, "height": 640}


@pytest.mark.browser
def test_the_dpo_previews_and_publishes_and_a_visitor_reads_the_changes_at_320_px(live_server, browser, mailbox):
    from tests.test_dashboard import log_in_to

    app = live_server.server.app
    with app.app_context():
        staff_client(app, "dpo")
    context, page = log_in_to(browser, live_server, URL)
    page.get_by_label("Résumé des modifications, en français").fill("Délais de réponse et SMS.")
    page.get_by_label("Texte français (celui qui fait foi)").fill(revised())
    page.get_by_role("button", name="Prévisualiser").click()
    page.wait_for_load_state("networkidle")
    assert page.locator(".diff del", has_text="tout état de cause").is_visible()
    assert page.locator(".diff ins", has_text="Twilio pour les SMS").is_visible()
    assert page.locator(".preview h1").inner_text() == SEED.read_text(encoding="utf-8").splitlines()[0].strip()
    pictures = pictures_folder()
    page.evaluate("document.getElementById('cc').remove()")  # the cookie banner out of the documentation's picture
    page.locator("section.diff").screenshot(path=str(pictures / "policy-diff.png"))
    page.get_by_label("Modification substantielle").check()
    page.get_by_role("button", name="Publier la version 2").click()
    page.wait_for_load_state("networkidle")
    assert "Version 2 publiée" in page.inner_text("body")
    assert page.evaluate("window.cspViolations") == []
    context.close()
    visitor = browser.new_context(viewport=SMALL_SCREEN, locale="fr-FR", java_script_enabled=False)
    page = visitor.new_page()
    page.goto(live_server.url + "/confidentialite/versions")
    page.get_by_role("button", name="Tout refuser").click()  # without JavaScript, the banner's form is posted
    page.get_by_role("link", name="Ce qui a changé (version 2)").click()
    assert page.url.endswith("/confidentialite/versions/2/changements")
    assert page.locator("ins", has_text="Twilio pour les SMS").count() == 1
    assert page.locator("html").bounding_box()["width"] <= SMALL_SCREEN["width"]
    assert max(box["x"] + box["width"] for box in (item.bounding_box() for item in page.locator("del, ins").all())) \
        <= SMALL_SCREEN["width"]
    page.screenshot(path=str(pictures / "policy-changes-320.png"), full_page=True)
    visitor.close()
    checker = browser.new_context(bypass_csp=True, locale="fr-FR")  # axe is a script
    page = checker.new_page()
    page.goto(live_server.url + "/confidentialite/versions/2/changements")
    assert axe_violations(page) == []
    checker.close()


def test_the_preview_and_the_changes_page_validate(app, client, policy, tmp_path):
    english = (SEED.parent / "en.txt").read_text(encoding="utf-8")
    preview = post(staff_client(app, "dpo"), {"summary": "Délais et SMS.", "text_fr": revised(),
                                              "text_en": english}).data
    publish(revised(), "Délais et SMS.")
    pages = {URL: preview, "/confidentialite/versions": client.get("/confidentialite/versions").data,
             "/confidentialite/versions/2/changements": client.get("/confidentialite/versions/2/changements").data}
    assert vnu_errors(pages, tmp_path) == []
