"""DKIM: every message leaves signed, `dkim.verify` accepts it with the published key, and a change breaks it."""

import hashlib
import re
import uuid
from types import SimpleNamespace

import dkim
import pytest

import app.config as settings
from app import InsecureConfiguration, create_app
from app.config import ProductionConfig
from app.extensions import db
from app.mail.services import deliver_due, queue_mail
from tests.support.newsletter import queue_marketing_mail
from tests.support.smtp import parse_with_node
from tests.test_config import production_env  # noqa: F401  (the fixture: a complete production environment)

DOMAIN, SELECTOR = "k-inventory.com", "k2026"
RECORD = re.compile(r'^k2026\._domainkey\.k-inventory\.com\. IN TXT \( (.+) \)$', re.MULTILINE)


@pytest.fixture
def key(app, monkeypatch, tmp_path):
    """A key made by `flask mail dkim-keygen` in a fresh instance folder, and the TXT value it printed."""
    monkeypatch.setattr(settings, "INSTANCE_DIR", tmp_path)
    result = app.test_cli_runner().invoke(args=["mail", "dkim-keygen", "--selector", SELECTOR, "--domain", DOMAIN])
    assert result.exit_code == 0, result.output
    strings = re.findall(r'"([^"]+)"', RECORD.search(result.output).group(1))
    assert all(len(s) <= 255 for s in strings)
    return SimpleNamespace(path=tmp_path / f"dkim-{SELECTOR}.pem", txt="".join(strings))


@pytest.fixture
def signing_app(make_app, key):
    """The site signing with the key, inside an app context."""
    app = make_app(DKIM_SIGNING="app", DKIM_DOMAIN=DOMAIN, DKIM_SELECTOR=SELECTOR, DKIM_PRIVATE_KEY_FILE=str(key.path),
                   SITE_URL="https://www.k-inventory.com", UNSUBSCRIBE_MAILTO="desabonnement@k-inventory.com")
    with app.app_context():
        yield app


def dns(key):
    """A resolver that knows only the published record (dkimpy's dnsfunc)."""
    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        return key.txt.encode() if name == f"{SELECTOR}._domainkey.{DOMAIN}.".encode() else None
    return lookup


def verified(raw: bytes, key) -> dkim.DKIM:
    """The verifier after a successful check (it holds the signature's tags and the key size)."""
    verifier = dkim.DKIM(raw)
    assert verifier.verify(dnsfunc=dns(key)), "the DKIM signature does not verify"
    return verifier


def send_both() -> None:
    """A transactional message with an accented subject and a marketing message, delivered."""
    queue_mail("demandeur@example.com", "Votre demande a été reçue", "Bonjour,\n\nRéférence DR-2026-000001.\n")
    reader = SimpleNamespace(email="lecteur@example.com", public_id=uuid.uuid4().hex, language="fr")
    queue_marketing_mail(reader, "actualites-produit", "Nouveautés", "Bonjour.\n", "<p>Bonjour.</p>")
    db.session.commit()
    assert deliver_due().sent == 2


def test_keygen_writes_a_private_key_and_prints_the_record(key):
    assert key.path.stat().st_mode & 0o077 == 0
    assert key.path.read_bytes().startswith(b"-----BEGIN RSA PRIVATE KEY-----")
    assert key.txt.startswith("v=DKIM1; k=rsa; p=")


def test_keygen_never_overwrites_a_key(app, key):
    result = app.test_cli_runner().invoke(args=["mail", "dkim-keygen", "--selector", SELECTOR, "--domain", DOMAIN])
    assert result.exit_code != 0 and "choose a new selector" in result.output


def test_every_message_is_signed_and_verifies(signing_app, key, mailbox):
    send_both()
    assert len(mailbox.deliveries) == 2
    for delivery in mailbox.deliveries:
        assert delivery.content.startswith(b"DKIM-Signature: ")
        verifier = verified(delivery.content, key)
        tags = verifier.signature_fields
        assert tags[b"d"] == DOMAIN.encode() and tags[b"s"] == SELECTOR.encode()
        assert tags[b"a"] == b"rsa-sha256" and tags[b"c"] == b"relaxed/relaxed"
        assert verifier.keysize == 2048
        assert re.sub(rb"\s", b"", tags[b"h"]).split(b":") == [
            b"from", b"from", b"to", b"subject", b"date", b"message-id", b"mime-version", b"content-type",
            b"list-id", b"list-unsubscribe", b"list-unsubscribe-post"]


def test_a_changed_list_unsubscribe_fails_verification(signing_app, key, mailbox):
    send_both()
    [raw] = mailbox.raw_to("lecteur@example.com")
    verified(raw, key)
    changed = re.sub(rb"desabonnement/[A-Za-z0-9._-]+>", b"desabonnement/autre-jeton>", raw, count=1)
    assert changed != raw and not dkim.verify(changed, dnsfunc=dns(key))
    no_one_click = raw.replace(b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n", b"")
    assert not dkim.verify(no_one_click, dnsfunc=dns(key))


@pytest.mark.parametrize("tamper", [
    lambda raw: raw.replace(b"Bonjour", b"Bonsoir", 1),  # the body
    lambda raw: raw.replace(b"\r\nTo: ", b"\r\nFrom: attaquant@example.net\r\nTo: ", 1),  # a second From
    lambda raw: raw.replace(b"\r\nTo: ", b"\r\nList-Unsubscribe: <https://attaquant.example/>\r\nTo: ", 1),
])
def test_transactional_mail_cannot_be_altered_or_given_headers(signing_app, key, mailbox, tamper):
    send_both()
    [raw] = mailbox.raw_to("demandeur@example.com")
    verified(raw, key)
    assert not dkim.verify(tamper(raw), dnsfunc=dns(key))


def test_another_parser_still_reads_a_signed_message(signing_app, key, mailbox):
    send_both()
    [raw] = mailbox.raw_to("lecteur@example.com")
    assert parse_with_node(raw)["list"]["unsubscribe"]["url"].startswith("https://www.k-inventory.com/")


def test_relay_signing_leaves_messages_as_they_are(make_app, mailbox):
    app = make_app(DKIM_SIGNING="relay")
    with app.app_context():
        send_both()
    assert not any(d.content.startswith(b"DKIM-Signature") for d in mailbox.deliveries)


@pytest.mark.parametrize(("settings_", "named"), [
    ({"DKIM_SIGNING": None}, "DKIM_SIGNING"),
    ({"DKIM_SIGNING": "maybe"}, "DKIM_SIGNING"),
    ({"DKIM_SIGNING": "app"}, "DKIM_DOMAIN"),
    ({"DKIM_SIGNING": "app", "DKIM_DOMAIN": DOMAIN, "DKIM_SELECTOR": SELECTOR,
      "DKIM_PRIVATE_KEY_FILE": "/nonexistent/key.pem"}, "DKIM_PRIVATE_KEY_FILE"),
])
@pytest.mark.usefixtures("production_env")
def test_production_refuses_to_start_without_a_dkim_decision(monkeypatch, settings_, named):
    for name, value in settings_.items():
        monkeypatch.delenv(name, raising=False) if value is None else monkeypatch.setenv(name, value)
    with pytest.raises(InsecureConfiguration) as error:
        create_app(ProductionConfig())
    assert named in str(error.value)


@pytest.mark.usefixtures("production_env")
def test_production_starts_when_the_site_signs(monkeypatch, key):
    for name, value in {"DKIM_SIGNING": "app", "DKIM_DOMAIN": DOMAIN, "DKIM_SELECTOR": SELECTOR,
                        "DKIM_PRIVATE_KEY_FILE": str(key.path)}.items():
        monkeypatch.setenv(name, value)
    assert ProductionConfig().problems() == []


def test_openssl_signs_the_very_bytes_dkimpy_would(key):
    import dkim.crypto

    from app.mail.signing import openssl_pkcs1_sign, sign_with_openssl

    pem = key.path.read_bytes()
    sign_with_openssl(pem)
    parsed, digest = dkim.crypto.parse_pem_private_key(pem), hashlib.sha256(b"DKIM-Signature: v=1; a=rsa-sha256")
    assert bytes(openssl_pkcs1_sign(digest, parsed)) == bytes(dkim.crypto.RSASSA_PKCS1_v1_5_sign(digest, parsed))
    assert dkim.RSASSA_PKCS1_v1_5_sign is openssl_pkcs1_sign
