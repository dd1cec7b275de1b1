"""The policy page: every sentence of the seed text, anchors, versions, English translation."""

import re
from datetime import UTC, datetime
from html import unescape
from pathlib import Path

import pytest

from app.policy.services import publish
from app.policy.text import SECTION_IDS, parse_policy

SEED = Path(__file__).resolve().parent.parent / "content" / "policy" / "v1" / "fr.txt"
SHARED_SEED = Path(__file__).resolve().parent.parent.parent / "shared" / "seed" / "politique-de-confidentialite.txt"


def visible_text(html: str) -> str:
    """Page text with tags removed and every kind of space folded to one."""
    text = unescape(re.sub(r"<[^>]+>", " ", html))
    return re.sub(r"[\s\u00a0\u202f]+", " ", text)


def folded(text: str) -> str:
    """Fold spaces the way visible_text does."""
    return re.sub(r"[\s\u00a0\u202f]+", " ", text).strip()


def test_repository_copy_is_the_shared_seed():
    """The shared seed lies beside the checkout (as in CI); its absence is a failure, never a pass."""
    assert SHARED_SEED.exists(), f"the policy's seed text is missing: {SHARED_SEED}"
    assert SEED.read_text(encoding="utf-8") == SHARED_SEED.read_text(encoding="utf-8")


def test_every_title_and_sentence_of_the_seed_is_on_the_page(client, policy):
    page = visible_text(client.get("/confidentialite").get_data(as_text=True))
    for line in SEED.read_text(encoding="utf-8").splitlines():
        line = NUMBERED.sub(r"\1. ", folded(line.removeprefix("- ")))  # « 7- Quelle… » is typeset « 7. Quelle… »
        if line:
            assert line in page, line[:80]


NUMBERED = re.compile(r"^(\d+)- ")


def test_section_headings_are_typeset_with_a_number_and_a_full_stop(client, policy):
    html = client.get("/confidentialite").get_data(as_text=True)
    headings = [visible_text(h) for h in re.findall(r"<h2 id=\"[a-z-]+-title\">(\d.*?)</h2>", html)]
    assert len(headings) == 9 and headings[6] == "7. Quelle est notre politique en matière de cookies ?"
    assert not [h for h in headings if re.match(r"\d+-", h)]


def test_page_is_french_with_toc_anchors_controller_and_version(client, policy):
    response = client.get("/confidentialite")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="fr">' in html
    for anchor in SECTION_IDS.values():
        assert f'href="#{anchor}"' in html and f'id="{anchor}"' in html
    text = visible_text(html)
    assert "Responsable du traitement" in text
    assert "Tour Ariane La Défense 9" in text
    assert "Dernière mise à jour" in text and "Version 1" in text.replace("Version 1", "Version 1")


def test_lists_stay_lists(client, policy):
    html = client.get("/confidentialite").get_data(as_text=True)
    section = html.split('id="collecte"')[1].split("</section>")[0]
    assert section.count("<li>") == 6


def test_french_typography_uses_non_breaking_spaces(client, policy):
    html = client.get("/confidentialite").get_data(as_text=True)
    assert "données personnelles\u202f?" in html
    assert "«\u00a0données de service\u00a0»" in html
    assert "données personnelles ?" not in html


def test_english_courtesy_translation_of_the_same_version(client, policy):
    response = client.get("/en/privacy")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="en">' in html
    assert "Privacy Policy" in html
    assert "French version prevails" in visible_text(html) or "only the French version" in visible_text(html)
    assert 'hreflang="fr" href="http://localhost/confidentialite"' in html
    assert 'hreflang="en" href="http://localhost/en/privacy"' in html


def test_seed_and_translation_have_the_same_structure():
    english = SEED.with_name("en.txt")
    french_doc, english_doc = parse_policy(SEED.read_text()), parse_policy(english.read_text())
    assert [s.number for s in french_doc.sections] == [s.number for s in english_doc.sections]
    for fr_section, en_section in zip(french_doc.sections, english_doc.sections, strict=True):
        assert [len(b.items) for b in fr_section.blocks] == [len(b.items) for b in en_section.blocks]


def test_language_switch_on_every_page(client, policy):
    assert 'href="/en/privacy"' in client.get("/confidentialite").get_data(as_text=True)
    assert 'href="/confidentialite"' in client.get("/en/privacy").get_data(as_text=True)
    assert 'href="/en/"' in client.get("/").get_data(as_text=True)


def test_versions_are_listed_and_old_ones_stay_readable(client, policy):
    publish(SEED.read_text() + "\nAjout.", "Deuxième version de test.")
    listing = visible_text(client.get("/confidentialite/versions").get_data(as_text=True))
    assert "Version 2" in listing and "Version 1" in listing and "Deuxième version de test." in listing
    old = visible_text(client.get("/confidentialite/versions/1").get_data(as_text=True))
    assert "Cette version n’est plus en vigueur" in old
    current = visible_text(client.get("/confidentialite/versions/2").get_data(as_text=True))
    assert "n’est plus en vigueur" not in current
    assert client.get("/confidentialite/versions/9").status_code == 404


def test_a_publication_reaches_every_worker_within_the_recheck_delay(make_app, client, policy, time_machine):
    """Another worker (another app on the same database) serves the new version once its delay has passed."""
    time_machine.move_to(datetime.now(UTC), tick=False)
    worker = make_app(POLICY_RECHECK_SECONDS=0.5).test_client()
    assert "Version 1" in visible_text(worker.get("/confidentialite").get_data(as_text=True))
    publish(SEED.read_text() + "\nAjout.", "Deuxième version de test.")
    assert "Version 2" in visible_text(client.get("/confidentialite").get_data(as_text=True))  # the publisher: at once
    assert "Version 1" in visible_text(worker.get("/confidentialite").get_data(as_text=True))
    time_machine.shift(0.4)
    assert "Version 1" in visible_text(worker.get("/confidentialite").get_data(as_text=True))
    time_machine.shift(0.2)
    assert "Version 2" in visible_text(worker.get("/confidentialite").get_data(as_text=True))
    assert "n’est plus en vigueur" not in visible_text(worker.get("/confidentialite/versions/2").get_data(
        as_text=True))


def test_version_without_translation_says_the_french_text_applies(client, policy):
    publish(SEED.read_text(), "Sans traduction.")
    text = visible_text(client.get("/en/privacy").get_data(as_text=True))
    assert "no English translation yet" in text


def test_publish_command_queues_one_notice_per_address_when_material(app, runner, policy, tmp_path):
    from app.mail.models import OutboxMessage
    from app.policy import services

    def more_addresses(_version):
        return ["a@example.com", "A@example.com ", "b@example.com"]

    services.notice_recipients_wanted.connect(more_addresses)
    try:
        text = tmp_path / "v2.txt"
        text.write_text(SEED.read_text(), encoding="utf-8")
        result = runner.invoke(args=["policy", "publish", "--file", str(text), "--summary", "Test", "--material"])
    finally:
        services.notice_recipients_wanted.disconnect(more_addresses)
    assert result.exit_code == 0, result.output
    assert "notices queued: 2" in result.output
    recipients = sorted(m.recipient for m in OutboxMessage.query.all())
    assert recipients == ["a@example.com", "b@example.com"]


def test_publish_without_material_queues_nothing(app, runner, policy, tmp_path):
    from app.mail.models import OutboxMessage

    text = tmp_path / "v2.txt"
    text.write_text("Titre\n\n1- Introduction\n\nTexte.", encoding="utf-8")
    result = runner.invoke(args=["policy", "publish", "--file", str(text), "--summary", "Coquille"])
    assert result.exit_code == 0 and OutboxMessage.query.count() == 0


@pytest.mark.parametrize("args", [["--summary", "x"], ["--file", "missing.txt", "--summary", "x"]])
def test_publish_refuses_bad_arguments(runner, policy, args):
    result = runner.invoke(args=["policy", "publish", *args])
    assert result.exit_code != 0


def test_init_loads_the_first_version_once(runner):
    assert "published version 1" in runner.invoke(args=["policy", "init"]).output
    assert "already published" in runner.invoke(args=["policy", "init"]).output
