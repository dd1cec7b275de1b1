"""French by default, English under /en/: every interface string is translated."""

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po"


def test_one_catalogue():
    assert [path.name for path in CATALOGUE.parent.glob("*.po")] == ["messages.po"]


def test_every_string_of_the_code_and_templates_has_an_english_translation(runner, tmp_path):
    """Extract afresh with the app's own command: every msgid in use is translated, none is fuzzy."""
    result = runner.invoke(args=["translate", "extract", "--output", str(tmp_path / "messages.pot")])
    assert result.exit_code == 0, result.output
    with (tmp_path / "messages.pot").open("rb") as template, CATALOGUE.open("rb") as po:
        wanted, catalogue = read_po(template), read_po(po)
    missing = [m.id for m in wanted if m.id and not (catalogue.get(m.id, context=m.context) or None)]
    untranslated = [m.id for m in catalogue if m.id and (not all(m.string if isinstance(m.string, tuple)
                                                                 else [m.string]) or m.fuzzy)]
    assert missing == [] and untranslated == []
    assert not catalogue.fuzzy, "pybabel compiles no catalogue whose header is marked fuzzy"


def test_home_page_in_french_and_english(client, policy):
    french = client.get("/").get_data(as_text=True)
    english = client.get("/en/").get_data(as_text=True)
    assert '<html lang="fr">' in french and "Aller au contenu" in french
    assert '<html lang="en">' in english and "Skip to content" in english
    assert "Cookie settings" in english or "Privacy policy" in english


def test_footer_links_on_every_page(client, policy):
    for url in ("/", "/confidentialite", "/confidentialite/versions", "/page-inconnue"):
        html = client.get(url).get_data(as_text=True)
        assert 'href="/confidentialite"' in html


def test_translate_compile(runner):
    result = runner.invoke(args=["translate", "compile"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(("count", "french", "english"), [
    (0, "0 réponse", "0 answers"), (1, "1 réponse", "1 answer"), (2, "2 réponses", "2 answers")])
def test_counts_follow_babels_plural_rules_french_singular_for_0_and_1(app, count, french, english):
    from flask_babel import force_locale, ngettext

    with app.test_request_context("/"), force_locale("fr"):
        assert ngettext("%(num)d réponse", "%(num)d réponses", count) == french
    with app.test_request_context("/en/"), force_locale("en"):
        translated = ngettext("%(num)d demande, échéance la plus proche en premier",
                              "%(num)d demandes, échéance la plus proche en premier", count)
        assert translated.startswith(english.replace("answer", "request"))
