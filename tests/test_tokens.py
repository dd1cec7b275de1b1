"""Signed links: one purpose each, a maximum age each, and key rotation that keeps old links working."""

from datetime import UTC, datetime, timedelta

import pytest
from itsdangerous import Signer, URLSafeTimedSerializer

from app.newsletter.links import manage_token
from app.tokens import (
    NEWSLETTER_MANAGE,
    RIGHTS_CONFIRM,
    RIGHTS_STATUS,
    ExpiredLink,
    InvalidLink,
    compact_signer,
    read_text,
    secret_keys,
    sign,
)
from tests.support.rights import confirmed_request, latest_mail, links, path_of


def test_a_token_opens_only_the_purpose_it_was_made_for(app):
    with app.test_request_context("/"):
        token = sign(RIGHTS_STATUS, "abc")
        assert read_text(RIGHTS_STATUS, token) == "abc"
        with pytest.raises(InvalidLink):
            read_text(RIGHTS_CONFIRM, token)


def test_links_are_the_ones_itsdangerous_makes_and_reads_with_its_defaults(app):
    """Links mailed before the signers were sped up still open, and itsdangerous itself reads ours."""
    with app.test_request_context("/"):
        stock = URLSafeTimedSerializer(secret_keys(), salt=RIGHTS_STATUS.salt)
        assert read_text(RIGHTS_STATUS, stock.dumps("abc")) == "abc"
        assert stock.loads(sign(RIGHTS_STATUS, "abc")) == "abc"
        assert compact_signer(NEWSLETTER_MANAGE).sign("x") == Signer(
            secret_keys(), salt=NEWSLETTER_MANAGE.salt).sign("x")


def test_compact_links_refuse_a_purpose_that_expires(app):
    with app.test_request_context("/"), pytest.raises(ValueError):
        compact_signer(RIGHTS_CONFIRM)
    with app.test_request_context("/"):
        assert compact_signer(NEWSLETTER_MANAGE).sign("x")


def test_rotating_the_secret_key_keeps_status_and_unsubscribe_links_working(make_app, client, mailbox):
    """Links mailed before a key rotation still open, for rights requests as for the newsletter."""
    request_ = confirmed_request(client, mailbox)
    [status_link] = [link for link in links(latest_mail(mailbox, request_.email), "/demande/")
                     if "/confirmer/" not in link]
    unsubscribe = f"/newsletter/desabonnement/{manage_token('0' * 32)}"
    old_key, new_key = client.application.config["SECRET_KEY"], "a-brand-new-secret-key-of-48-random-characters-x"
    rotated = make_app(SECRET_KEY=new_key, SECRET_KEY_FALLBACKS=[old_key]).test_client()
    page = rotated.get(path_of(status_link))
    assert page.status_code == 200 and request_.reference in page.get_data(as_text=True)
    assert rotated.get(unsubscribe).status_code == 200
    forgotten = make_app(SECRET_KEY=new_key).test_client()
    assert forgotten.get(path_of(status_link)).status_code == 400
    assert forgotten.get(unsubscribe).status_code == 400


def test_an_expired_link_says_how_long_it_lived_and_where_to_get_another(app, client, time_machine):
    with app.test_request_context("/"):
        token = sign(RIGHTS_CONFIRM, "0" * 32)
    time_machine.move_to(datetime.now(UTC) + timedelta(days=31))
    response = client.get(f"/demande/confirmer/{token}")
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "Lien expiré" in html and "valable que 30 jours" in html
    assert 'href="/contact"' in html
    with app.test_request_context("/"), pytest.raises(ExpiredLink):
        read_text(RIGHTS_CONFIRM, token)
