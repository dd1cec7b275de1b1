"""French by default, English under /en/: every interface string is translated."""

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

CATALOGUES = sorted((Path(__file__).resolve().parent.parent / "translations" / "en" / "LC_MESSAGES").glob("*.po"))


@pytest.mark.parametrize("po_file", CATALOGUES, ids=lambda path: path.stem)
def test_english_catalogue_is_complete(po_file):
    with po_file.open("rb") as handle:
        catalogue = read_po(handle)
    untranslated = [m.id for m in catalogue if m.id and (not m.string or m.fuzzy)]
    assert untranslated == []


def test_catalogues_exist():
    assert "messages" in {path.stem for path in CATALOGUES}


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


def test_translate_commands(runner):
    result = runner.invoke(args=["translate", "compile", "--domain", "messages"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["translate", "compile", "--domain", "inconnu"])
    assert result.exit_code != 0 and "unknown catalogue" in result.output
