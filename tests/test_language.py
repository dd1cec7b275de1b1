"""Language details: « 1er » on French pages, British dates on English pages, x-default, canonical, Content-Language."""

from datetime import UTC, datetime

import pytest
from flask_babel import refresh

from app.extensions import db
from app.templating import page_date, premier
from tests.test_page_quality import public_pages


@pytest.fixture
def first_of_june(policy):
    """The policy, published on the first of June 2027 (Paris time)."""
    policy.published_at = datetime(2027, 5, 31, 22, 30, tzinfo=UTC)
    db.session.commit()
    return policy


def test_french_pages_write_the_first_of_the_month_1er(client, first_of_june):
    page = client.get("/confidentialite").get_data(as_text=True)
    assert "1er juin 2027" in page
    assert "1er juin 2027" in client.get("/confidentialite/versions").get_data(as_text=True)


def test_english_pages_write_british_dates(client, first_of_june):
    page = client.get("/en/privacy").get_data(as_text=True)
    assert "1 June 2027" in page
    assert "June 1, 2027" not in page and "1er" not in page


@pytest.mark.parametrize(("text", "expected"), [
    ("1 juin 2027", "1er juin 2027"), ("mardi 1 juin 2027", "mardi 1er juin 2027"), ("1 janv. 2027", "1er janv. 2027"),
    ("11 juin 2027", "11 juin 2027"), ("21 mai 2027", "21 mai 2027"), ("01/06/2027", "01/06/2027"),
    ("2 juin 2027", "2 juin 2027"),
])
def test_only_the_first_of_a_month_gets_er(text, expected):
    assert premier(text) == expected


def test_the_date_filter_follows_the_page(app):
    day = datetime(2027, 11, 1, 12, tzinfo=UTC)
    with app.test_request_context("/"):
        assert page_date(day, "long") == "1er novembre 2027"
        assert page_date(day, "short") == "01/11/2027"
    with app.test_request_context("/en/"):
        refresh()  # the test's app context outlives the French request
        assert page_date(day, "long") == "1 November 2027"
        assert page_date(day, "short") == "01/11/2027"


def test_every_page_has_a_canonical_link_and_content_language(app, client, policy):
    for url in public_pages(app):
        response = client.get(url)
        html = response.get_data(as_text=True)
        lang = "en" if url.startswith("/en") else "fr"
        assert response.headers["Content-Language"] == lang, url
        assert f'<link rel="canonical" href="http://localhost{url}">' in html, url


def test_page_pairs_name_french_as_the_default(client, policy):
    html = client.get("/en/privacy").get_data(as_text=True)
    assert '<link rel="alternate" hreflang="fr" href="http://localhost/confidentialite">' in html
    assert '<link rel="alternate" hreflang="en" href="http://localhost/en/privacy">' in html
    assert '<link rel="alternate" hreflang="x-default" href="http://localhost/confidentialite">' in html
