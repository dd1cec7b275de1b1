"""TLS to the relay: the certificate and host name are verified; without that, nothing leaves in clear."""

import ssl

import pytest
import sqlalchemy as sa
import trustme

from app import InsecureConfiguration, create_app
from app.config import ProductionConfig
from app.extensions import db
from app.mail.models import OutboxMessage, OutboxStatus
from app.mail.services import deliver_due, queue_mail
from tests.support.smtp import SmtpSink
from tests.test_config import production_env  # noqa: F401  (the fixture: a complete production environment)


@pytest.fixture(scope="module")
def relay_ca():
    """The throw-away CA that issued the relay's certificate."""
    return trustme.CA()


def server_context(ca: trustme.CA, *names: str) -> ssl.SSLContext:
    """A server-side TLS context with a certificate from the CA for these names."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(context)
    return context


@pytest.fixture
def relay(relay_ca):
    """A loopback relay that speaks STARTTLS and refuses mail before it (certificate for 127.0.0.1)."""
    sink = SmtpSink(tls_context=server_context(relay_ca, "127.0.0.1", "localhost"), require_starttls=True)
    sink.start()
    yield sink
    sink.stop()


def ca_file(ca: trustme.CA, tmp_path) -> str:
    """The CA's certificate as a PEM file (MAIL_CA_FILE)."""
    tmp_path.mkdir(exist_ok=True)
    path = tmp_path / "relay-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def send_one(app) -> OutboxMessage:
    """Queue one message, run one delivery pass, return its row."""
    with app.app_context():
        queue_mail("personne@example.com", "Sujet", "Texte")
        db.session.commit()
        deliver_due()
        row = db.session.scalar(sa.select(OutboxMessage))
        db.session.expunge(row)
        return row


def test_trusted_relay_gets_the_message_over_tls(make_app, relay, relay_ca, tmp_path):
    app = make_app(MAIL_PORT=relay.port, MAIL_USE_TLS=True, MAIL_CA_FILE=ca_file(relay_ca, tmp_path))
    row = send_one(app)
    assert row.status == OutboxStatus.SENT
    [delivery] = relay.deliveries
    assert delivery.tls and delivery.rcpt_tos == ("personne@example.com",)


@pytest.mark.parametrize("case", ["unknown CA", "wrong host name", "no STARTTLS offered"])
def test_an_unverified_relay_gets_nothing_and_the_message_waits(make_app, relay, relay_ca, tmp_path, case):
    sink, settings = relay, {"MAIL_CA_FILE": ca_file(relay_ca, tmp_path)}
    if case == "unknown CA":
        settings["MAIL_CA_FILE"] = ca_file(trustme.CA(), tmp_path / "other")
        expected = "certificate verify failed"
    elif case == "wrong host name":
        sink = SmtpSink(tls_context=server_context(relay_ca, "mail.example.net"))
        expected = "certificate verify failed"
    else:
        sink = SmtpSink()
        expected = "STARTTLS"
    if sink is not relay:
        sink.start()
    try:
        row = send_one(make_app(MAIL_PORT=sink.port, MAIL_USE_TLS=True, **settings))
    finally:
        if sink is not relay:
            sink.stop()
    assert sink.deliveries == []
    assert row.status == OutboxStatus.PENDING and row.attempts == 1 and expected in row.last_error


def test_implicit_tls_on_the_submission_port(make_app, relay_ca, tmp_path):
    sink = SmtpSink(tls_context=server_context(relay_ca, "127.0.0.1"), implicit_tls=True)
    sink.start()
    try:
        row = send_one(make_app(MAIL_PORT=sink.port, MAIL_USE_SSL=True, MAIL_CA_FILE=ca_file(relay_ca, tmp_path)))
    finally:
        sink.stop()
    assert row.status == OutboxStatus.SENT and sink.deliveries[0].tls


@pytest.mark.parametrize(("settings", "starts"), [
    ({"MAIL_USE_TLS": "0"}, False),
    ({"MAIL_USE_TLS": "0", "MAIL_ALLOW_PLAINTEXT": "1"}, True),
    ({"MAIL_USE_TLS": "0", "MAIL_SERVER": "127.0.0.1"}, True),
    ({"MAIL_USE_TLS": "0", "MAIL_USE_SSL": "1", "MAIL_PORT": "465"}, True),
    ({"MAIL_USE_TLS": "1", "MAIL_USE_SSL": "1"}, False),
])
@pytest.mark.usefixtures("production_env")
def test_production_refuses_plaintext_smtp_to_another_machine(monkeypatch, settings, starts):
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    if starts:
        assert ProductionConfig().problems() == []
    else:
        with pytest.raises(InsecureConfiguration) as error:
            create_app(ProductionConfig())
        assert "MAIL_USE_TLS" in str(error.value)
