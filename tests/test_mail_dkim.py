"""DKIM: every message leaves signed, `dkim.verify` accepts it with the published key, and a change breaks it."""

import base64
import email
import re
import uuid
from types import SimpleNamespace

import dkim
import dkim.crypto
import pytest

import app.config as settings
from app import InsecureConfiguration, create_app
from app.config import ProductionConfig
from app.extensions import db
from app.mail.services import deliver_due, queue_mail
from app.mail.signing import SigningError, make_signer
from tests.support.newsletter import queue_marketing_mail
from tests.support.smtp import parse_with_node
from tests.test_config import production_env  # noqa: F401  (the fixture: a complete production environment)

DOMAIN, SELECTOR, ED_SELECTOR = "k-inventory.com", "k2026", "k2026e"


def keygen(app, selector: str, *options: str) -> SimpleNamespace:
    """A key made by `flask mail dkim-keygen` in the instance folder, its selector, the TXT value it printed."""
    command = ["mail", "dkim-keygen", "--selector", selector, "--domain", DOMAIN, *options]
    result = app.test_cli_runner().invoke(args=command)
    assert result.exit_code == 0, result.output
    record = re.search(rf"^{selector}\._domainkey\.k-inventory\.com\. IN TXT \( (.+) \)$", result.output, re.MULTILINE)
    strings = re.findall(r'"([^"]+)"', record.group(1))
    assert all(len(s) <= 255 for s in strings)
    return SimpleNamespace(path=settings.INSTANCE_DIR / f"dkim-{selector}.pem", selector=selector,
                           txt="".join(strings), output=result.output)


@pytest.fixture
def key(app, monkeypatch, tmp_path):
    """The RSA key, made in a fresh instance folder."""
    monkeypatch.setattr(settings, "INSTANCE_DIR", tmp_path)
    return keygen(app, SELECTOR)


@pytest.fixture
def ed_key(app, key):
    """A second key, ed25519, in the same instance folder."""
    return keygen(app, ED_SELECTOR, "--algorithm", "ed25519")


@pytest.fixture
def signing_app(make_app, key):
    """The site signing with the key, inside an app context."""
    app = make_app(DKIM_SIGNING="app", DKIM_DOMAIN=DOMAIN, DKIM_SELECTOR=SELECTOR, DKIM_PRIVATE_KEY_FILE=str(key.path),
                   SITE_URL="https://www.k-inventory.com", UNSUBSCRIBE_MAILTO="desabonnement@k-inventory.com")
    with app.app_context():
        yield app


@pytest.fixture
def dual_app(make_app, key, ed_key):
    """The site signing with both keys, inside an app context."""
    app = make_app(DKIM_SIGNING="app", DKIM_DOMAIN=DOMAIN, DKIM_SELECTOR=SELECTOR, DKIM_PRIVATE_KEY_FILE=str(key.path),
                   DKIM_ED25519_SELECTOR=ED_SELECTOR, DKIM_ED25519_PRIVATE_KEY_FILE=str(ed_key.path),
                   SITE_URL="https://www.k-inventory.com", UNSUBSCRIBE_MAILTO="desabonnement@k-inventory.com")
    with app.app_context():
        yield app


def dns(*keys):
    """A resolver that knows only the published records (dkimpy's dnsfunc)."""
    records = {f"{k.selector}._domainkey.{DOMAIN}.".encode(): k.txt.encode() for k in keys}

    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        return records.get(name)
    return lookup


def verified(raw: bytes, *keys, idx: int = 0) -> dkim.DKIM:
    """The verifier after a successful check of the idx-th signature (it holds its tags and the key size)."""
    verifier = dkim.DKIM(raw)
    assert verifier.verify(idx=idx, dnsfunc=dns(*keys)), f"DKIM signature {idx} does not verify"
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
            b"list-id", b"list-unsubscribe", b"list-unsubscribe-post", b"feedback-id"]
    assert dkim.RSASSA_PKCS1_v1_5_sign is dkim.crypto.RSASSA_PKCS1_v1_5_sign, "dkimpy signs with its own RSA"


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


def test_relay_signing_leaves_messages_as_they_are(make_app, key, mailbox):
    """With DKIM_SIGNING=relay the site signs nothing, even with a key and a selector set."""
    app = make_app(DKIM_SIGNING="relay", DKIM_DOMAIN=DOMAIN, DKIM_SELECTOR=SELECTOR,
                   DKIM_PRIVATE_KEY_FILE=str(key.path))
    with app.app_context():
        send_both()
    assert len(mailbox.deliveries) == 2
    for delivery in mailbox.deliveries:
        assert email.message_from_bytes(delivery.content).get_all("DKIM-Signature") is None
        assert b"DKIM-Signature" not in delivery.content


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


def test_keygen_writes_an_ed25519_key_and_prints_its_record(ed_key):
    assert ed_key.path.stat().st_mode & 0o077 == 0
    assert ed_key.path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert ed_key.txt.startswith("v=DKIM1; k=ed25519; p=")
    assert len(base64.b64decode(ed_key.txt.split("p=")[1])) == 32  # RFC 8463: the raw public key
    assert f"DKIM_ED25519_SELECTOR={ED_SELECTOR} DKIM_ED25519_PRIVATE_KEY_FILE={ed_key.path}" in ed_key.output


def test_both_signatures_verify_over_the_same_headers(dual_app, key, ed_key, mailbox):
    send_both()
    assert len(mailbox.deliveries) == 2
    for delivery in mailbox.deliveries:
        assert delivery.content.count(b"DKIM-Signature: ") == 2
        rsa, ed = verified(delivery.content, key, ed_key, idx=0), verified(delivery.content, key, ed_key, idx=1)
        assert rsa.signature_fields[b"a"] == b"rsa-sha256" and rsa.signature_fields[b"s"] == SELECTOR.encode()
        assert ed.signature_fields[b"a"] == b"ed25519-sha256" and ed.signature_fields[b"s"] == ED_SELECTOR.encode()
        assert ed.signature_fields[b"c"] == b"relaxed/relaxed" and ed.signature_fields[b"d"] == DOMAIN.encode()
        assert re.sub(rb"\s", b"", ed.signature_fields[b"h"]) == re.sub(rb"\s", b"", rsa.signature_fields[b"h"])
        # each one alone, with only its own record published
        assert verified(delivery.content, key, idx=0) and verified(delivery.content, ed_key, idx=1)


def test_a_changed_list_unsubscribe_fails_both_signatures(dual_app, key, ed_key, mailbox):
    send_both()
    [raw] = mailbox.raw_to("lecteur@example.com")
    changed = re.sub(rb"desabonnement/[A-Za-z0-9._-]+>", b"desabonnement/autre-jeton>", raw, count=1)
    assert changed != raw
    for idx in (0, 1):
        verified(raw, key, ed_key, idx=idx)
        assert not dkim.DKIM(changed).verify(idx=idx, dnsfunc=dns(key, ed_key))


def test_a_half_set_second_key_stops_the_worker(make_app, key, ed_key):
    app = make_app(DKIM_SIGNING="app", DKIM_DOMAIN=DOMAIN, DKIM_SELECTOR=SELECTOR, DKIM_PRIVATE_KEY_FILE=str(key.path),
                   DKIM_ED25519_PRIVATE_KEY_FILE=str(ed_key.path))
    with app.app_context(), pytest.raises(SigningError, match="DKIM_ED25519_SELECTOR"):
        make_signer()


def test_a_key_of_the_wrong_kind_is_refused(make_app, key, ed_key):
    app = make_app(DKIM_SIGNING="app", DKIM_DOMAIN=DOMAIN, DKIM_SELECTOR=SELECTOR,
                   DKIM_PRIVATE_KEY_FILE=str(ed_key.path))
    with app.app_context(), pytest.raises(SigningError, match="DKIM_PRIVATE_KEY_FILE is not an RSA key"):
        make_signer()


@pytest.mark.parametrize(("second", "named"), [
    ({"DKIM_ED25519_PRIVATE_KEY_FILE": "ed"}, "DKIM_ED25519_SELECTOR"),
    ({"DKIM_ED25519_SELECTOR": ED_SELECTOR}, "DKIM_ED25519_PRIVATE_KEY_FILE"),
    ({"DKIM_ED25519_SELECTOR": ED_SELECTOR, "DKIM_ED25519_PRIVATE_KEY_FILE": "/nonexistent/ed.pem"},
     "DKIM_ED25519_PRIVATE_KEY_FILE"),
])
@pytest.mark.usefixtures("production_env")
def test_production_refuses_a_half_set_second_key(monkeypatch, key, ed_key, second, named):
    second = {name: str(ed_key.path) if value == "ed" else value for name, value in second.items()}
    for name, value in {"DKIM_SIGNING": "app", "DKIM_DOMAIN": DOMAIN, "DKIM_SELECTOR": SELECTOR,
                        "DKIM_PRIVATE_KEY_FILE": str(key.path), **second}.items():
        monkeypatch.setenv(name, value)
    problems = ProductionConfig().problems()
    assert len(problems) == 1 and named in problems[0]


@pytest.mark.usefixtures("production_env")
def test_production_starts_with_both_keys(monkeypatch, key, ed_key):
    for name, value in {"DKIM_SIGNING": "app", "DKIM_DOMAIN": DOMAIN, "DKIM_SELECTOR": SELECTOR,
                        "DKIM_PRIVATE_KEY_FILE": str(key.path), "DKIM_ED25519_SELECTOR": ED_SELECTOR,
                        "DKIM_ED25519_PRIVATE_KEY_FILE": str(ed_key.path)}.items():
        monkeypatch.setenv(name, value)
    assert ProductionConfig().problems() == []
