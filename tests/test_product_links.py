"""The preference link the product gives a signed-in customer: it opens their preferences without a mail; a forged,
altered or expired one asks for the e-mail link instead."""

import hashlib
import hmac
import time
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.newsletter import confirmed_subscriber

EMAIL = "claire@example.fr"
SECRET = "a-secret-the-product-and-the-site-share-0123456789"


def account_link(email: str, secret: str = SECRET, lifetime: int = 300) -> str:
    """The reference code of docs/product.md, as the product runs it."""
    expires = int(time.time()) + lifetime
    signature = hmac.new(secret.encode(), f"{email}.{expires}".encode(), hashlib.sha256).hexdigest()
    return "/preferences/compte?" + urlencode({"email": email, "expires": expires, "signature": signature})


@pytest.fixture
def linked(app):
    """The product's link secret, set for this test."""
    app.config["PRODUCT_LINK_SECRET"] = SECRET


def test_the_account_link_opens_the_preferences_and_says_which_account(app, client, mailbox, linked):
    confirmed_subscriber(client, mailbox, EMAIL)
    mailbox.clear()

    opened = client.get(account_link(EMAIL.upper()), follow_redirects=True)

    page = opened.get_data(as_text=True)
    assert opened.status_code == 200 and "Mes préférences de newsletter" in page
    assert f"compte K-Inventory ({EMAIL})" in page and not mailbox.messages
    assert opened.headers["Cache-Control"] == "private, no-store"


def test_an_address_with_no_subscription_is_told_so(app, client, linked):
    page = client.get(account_link(EMAIL)).get_data(as_text=True)

    assert "n’est inscrit à aucune de nos listes" in page and EMAIL in page


@pytest.mark.parametrize(("link", "title"), [
    (account_link(EMAIL, secret="another-secret"), "Lien invalide"),
    (account_link(EMAIL).replace("claire", "alice"), "Lien invalide"),
    (account_link(EMAIL, lifetime=-5), "Lien expiré"),
    (account_link(EMAIL, lifetime=86400), "Lien expiré"),
])
def test_a_forged_altered_or_expired_link_asks_for_the_mail_link(app, client, mailbox, linked, link, title):
    confirmed_subscriber(client, mailbox, EMAIL)

    refused = client.get(link)

    page = refused.get_data(as_text=True)
    assert refused.status_code == 403 and title in page and "Recevoir le lien par e-mail" in page
    assert "Mes préférences" not in page


def test_no_link_works_without_the_secret(app, client, mailbox):
    confirmed_subscriber(client, mailbox, EMAIL)
    app.config["PRODUCT_LINK_SECRET"] = ""

    assert client.get(account_link(EMAIL, secret="")).status_code == 403


@given(st.dictionaries(st.sampled_from(["email", "expires", "signature", "lang"]), st.text(max_size=80)))
def test_any_query_gets_a_page_never_an_error(app, client, linked, query):
    answer = client.get("/preferences/compte", query_string=query)

    assert answer.status_code in (403, 400, 429)  # 429: the limit of 30 a minute, reached by the examples
