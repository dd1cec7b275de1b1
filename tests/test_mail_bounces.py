"""Bounces and complaints: VERP return paths, real-world DSN and ARF samples read from a Maildir or an mbox."""

import mailbox
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.auth.services import create_staff
from app.database import utcnow
from app.extensions import db
from app.mail.bounces import classify, verp_tag
from app.mail.models import MailBlock, OutboxMessage, SoftBounce
from app.mail.services import deliver_due, queue_mail
from app.newsletter.sms import sms_audience as sms_members_of
from app.personal import keyed_hash
from app.suppression.models import Channel, Suppression
from app.suppression.services import is_suppressed
from tests.support.newsletter import confirmed_subscriber, subscriber
from tests.support.rights import STAFF_PASSWORD

SAMPLES = Path(__file__).resolve().parent / "data" / "bounces"
BOUNCE_DOMAIN = "bounces.k-inventory.com"
PLAIN_RETURN_PATH = b"bounces@bounces.k-inventory.com"
# sample → (what it reports, about which address)
EXPECTED = {
    "postfix-hard.eml": ("bounce", "inconnu@example.org"),
    "exim-hard.eml": ("bounce", "absent@example.net"),
    "gmail-hard.eml": ("bounce", "nexiste.pas@example.com"),
    "outlook-hard.eml": ("bounce", "introuvable@example.org"),
    "arf-complaint.eml": ("complaint", "plaignant@example.net"),
    "gmail-soft.eml": ("soft", "boite.pleine@example.com"),
    "postfix-soft.eml": ("soft", "pleine@example.net"),
    "postfix-delayed.eml": ("nothing", "lent@example.net"),
}


def maildir_with(folder: Path, *contents: bytes) -> Path:
    """A Maildir whose new/ holds these messages, as an MTA delivers them."""
    box = mailbox.Maildir(folder, create=True)
    for content in contents:
        box.add(content)
    box.close()
    return folder


def read_maildir(runner, folder: Path) -> str:
    """Run `flask mail bounces --maildir`; its one-line summary."""
    result = runner.invoke(args=["mail", "bounces", "--maildir", str(folder)])
    assert result.exit_code == 0, result.output
    return result.output.strip()


def source_of(address: str) -> str | None:
    """Why the address is on the opt-out list (its source), if it is."""
    return db.session.scalar(sa.select(Suppression.source).where(
        Suppression.channel == Channel.EMAIL, Suppression.identifier_hash == keyed_hash(address)))


@pytest.fixture
def verp_app(make_app):
    """The app with a bounce domain, inside an app context."""
    app = make_app(MAIL_BOUNCE_DOMAIN=BOUNCE_DOMAIN)
    with app.app_context():
        yield app


def sent_to(address: str, kind: str = "transactional") -> OutboxMessage:
    """Queue and deliver one message; its row."""
    queue_mail(address, "Nouveautés", "Bonjour.", kind=kind)
    db.session.commit()
    deliver_due()
    return db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.recipient == address)
                              .order_by(OutboxMessage.id.desc())).first()


def answering(sample: str, row: OutboxMessage, extra: bytes = b"") -> bytes:
    """A real-world report as it comes back to the VERP address of one of our messages."""
    verp = f"bounces+{row.id}.{verp_tag(row.id)}@{BOUNCE_DOMAIN}".encode()
    return (SAMPLES / sample).read_bytes().replace(PLAIN_RETURN_PATH, verp).replace(
        b"SMTPIN_ADDED_MISSING", b"SMTPIN_ADDED_MISSING" + extra)


@pytest.mark.parametrize("sample", sorted(EXPECTED))
def test_each_sample_has_the_right_effect(verp_app, mailbox, tmp_path, sample):
    kind, address = EXPECTED[sample]
    row = sent_to(address)
    read_maildir(verp_app.test_cli_runner(), maildir_with(tmp_path / "Maildir", answering(sample, row)))
    db.session.expire_all()
    if kind in ("bounce", "complaint"):
        assert is_suppressed(Channel.EMAIL, email=address) and source_of(address) == kind
        reasons = db.session.scalars(sa.select(Suppression.reason)).all()
        assert reasons == ["opt_out"]
    else:
        assert not is_suppressed(Channel.EMAIL, email=address)
    soft = db.session.scalars(sa.select(SoftBounce)).all()
    assert [row.address_hash for row in soft] == ([keyed_hash(address)] if kind == "soft" else [])


@pytest.mark.parametrize("sample", sorted(EXPECTED))
def test_a_report_about_no_message_of_ours_opts_nobody_out(verp_app, tmp_path, sample):
    summary = read_maildir(verp_app.test_cli_runner(), maildir_with(tmp_path / "Maildir",
                                                                    (SAMPLES / sample).read_bytes()))
    assert summary.endswith("put on the opt-out list 0")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Suppression)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SoftBounce)) == 0


def test_a_maildir_is_read_once_and_an_mbox_in_full(verp_app, tmp_path):
    contents = [answering(name, sent_to(EXPECTED[name][1])) for name in sorted(EXPECTED)]
    folder = maildir_with(tmp_path / "Maildir", *contents)
    runner = verp_app.test_cli_runner()
    summary = ("read 8: hard 4, soft 2, blocks 0, complaints 1, no failure found 1, not about a message we sent 0; "
               "put on the opt-out list 5")
    assert read_maildir(runner, folder) == summary
    assert list((folder / "new").iterdir()) == [] and all(p.name.endswith(":2,S") for p in (folder / "cur").iterdir())
    assert read_maildir(runner, folder).startswith("read 0:")
    box = mailbox.mbox(tmp_path / "bounces.mbox")
    for content in contents:
        box.add(content)
    box.close()
    result = runner.invoke(args=["mail", "bounces", "--mbox", str(tmp_path / "bounces.mbox")])
    assert result.exit_code == 0 and result.output.strip() == summary
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SoftBounce)) == 2, "each report counted once"
    assert "@" not in result.output, "no address is printed"


def soft_reports(row: OutboxMessage, number: int) -> bytes:
    """The Gmail soft bounce (4.2.2, mailbox full) to one of our messages, as a distinct report each time."""
    return answering("gmail-soft.eml", row, str(number).encode())


def test_five_soft_bounces_within_30_days_count_as_a_hard_one(verp_app, mailbox, tmp_path):
    address, runner = "boite.pleine@example.com", verp_app.test_cli_runner()
    row = sent_to(address)
    for number in range(4):
        read_maildir(runner, maildir_with(tmp_path / f"Maildir{number}", soft_reports(row, number),
                                          soft_reports(row, number)))
    assert not is_suppressed(Channel.EMAIL, email=address), "four soft bounces (one read twice) are not enough"
    summary = read_maildir(runner, maildir_with(tmp_path / "Maildir4", soft_reports(row, 4)))
    assert summary.endswith("put on the opt-out list 1")
    assert is_suppressed(Channel.EMAIL, email=address) and source_of(address) == "bounce"


def test_soft_bounces_older_than_30_days_neither_count_nor_stay(verp_app, mailbox, tmp_path):
    address = "boite.pleine@example.com"
    for number in range(4):
        db.session.add(SoftBounce(address_hash=keyed_hash(address), report_hash=f"old{number}", status="4.2.2",
                                  bounced_at=utcnow() - timedelta(days=31)))
    db.session.commit()
    row = sent_to(address)
    read_maildir(verp_app.test_cli_runner(), maildir_with(tmp_path / "Maildir", soft_reports(row, 0)))
    assert not is_suppressed(Channel.EMAIL, email=address)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SoftBounce)) == 1, "the old ones are purged"


def test_the_envelope_sender_names_the_message(verp_app, mailbox):
    row = sent_to("abonne@example.com")
    [delivery] = mailbox.deliveries
    assert delivery.mail_from == f"bounces+{row.id}.{verp_tag(row.id)}@{BOUNCE_DOMAIN}"
    assert b"From: K-Inventory <no-reply@k-inventory.com>" in delivery.content, "the From stays the same"


def test_a_bounce_to_our_verp_address_names_the_address_we_wrote_to(verp_app, mailbox, tmp_path):
    row = sent_to("abonne@example.com")
    verp = mailbox.deliveries[0].mail_from.encode()
    # The report names where the mail was forwarded; our record names the address we hold.
    report = (SAMPLES / "postfix-hard.eml").read_bytes().replace(PLAIN_RETURN_PATH, verp)
    read_maildir(verp_app.test_cli_runner(), maildir_with(tmp_path / "Maildir", report))
    assert source_of(row.recipient) == "bounce" and not is_suppressed(Channel.EMAIL, email="inconnu@example.org")


def test_a_forged_verp_tag_is_not_believed(verp_app, mailbox, tmp_path):
    row = sent_to("abonne@example.com")
    forged = f"bounces+{row.id}.aaaaaaaaaa@{BOUNCE_DOMAIN}".encode()
    report = (SAMPLES / "postfix-hard.eml").read_bytes().replace(PLAIN_RETURN_PATH, forged)
    summary = read_maildir(verp_app.test_cli_runner(), maildir_with(tmp_path / "Maildir", report))
    assert "not about a message we sent 1" in summary and summary.endswith("put on the opt-out list 0")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Suppression)) == 0


def complaint_about(message_id: str, rcpt_to: str = "plaignant@example.net") -> bytes:
    """The RFC 5965 sample, about the message with this Message-ID, naming this Original-Rcpt-To."""
    return (SAMPLES / "arf-complaint.eml").read_bytes().replace(
        b"<sample-arf@www.k-inventory.com>", message_id.encode()).replace(
        b"<plaignant@example.net>", f"<{rcpt_to}>".encode())


def test_a_complaint_about_a_message_we_sent_ends_the_newsletter_by_e_mail(app, client, mailbox, runner, tmp_path):
    confirmed_subscriber(client, mailbox, "plaignant@example.net")
    ours = db.session.scalar(sa.select(OutboxMessage.message_id).where(
        OutboxMessage.recipient == "plaignant@example.net"))
    read_maildir(runner, maildir_with(tmp_path / "Maildir", complaint_about(ours)))
    db.session.expire_all()
    assert subscriber("plaignant@example.net").email_status != "confirmed"
    assert source_of("plaignant@example.net") == "complaint"


@pytest.mark.parametrize("message_id", ["<sample-arf@www.k-inventory.com>", "<forged@www.k-inventory.com>", ""])
def test_a_complaint_about_no_message_of_ours_opts_nobody_out(app, client, mailbox, runner, tmp_path, message_id):
    confirmed_subscriber(client, mailbox, "victime@example.net")
    report = complaint_about(message_id, "victime@example.net")
    summary = read_maildir(runner, maildir_with(tmp_path / "Maildir", report))
    assert "not about a message we sent 1" in summary and summary.endswith("put on the opt-out list 0")
    db.session.expire_all()
    assert subscriber("victime@example.net").email_status == "confirmed" and source_of("victime@example.net") is None


def blocked(sample: str, row: OutboxMessage, number: int) -> bytes:
    """A Postfix- or Exchange-style refusal of one of our messages because of our sending IP's reputation."""
    report = answering(sample, row).replace(b"Action: failed", f"X-Report: {number}\nAction: failed".encode(), 1)
    if sample == "postfix-hard.eml":
        return report.replace(b"Status: 5.1.1", b"Status: 5.7.1").replace(
            b"550 5.1.1 <inconnu@example.org>: Recipient address\n    rejected: User unknown in virtual mailbox table",
            b"554 5.7.1 Service unavailable; Client host\n    [192.0.2.11] blocked using zen.spamhaus.org")
    return report.replace(b"5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
                          b"5.7.606 Access denied, banned sending IP [192.0.2.11]").replace(
        b"Status: 5.1.10", b"Status: 5.7.606")


@pytest.mark.parametrize(("sample", "address"), [("postfix-hard.eml", "inconnu@example.org"),
                                                 ("outlook-hard.eml", "introuvable@example.org")])
def test_a_blocklist_refusal_opts_nobody_out(verp_app, mailbox, tmp_path, sample, address):
    row = sent_to(address)
    summary = read_maildir(verp_app.test_cli_runner(), maildir_with(tmp_path / "Maildir", blocked(sample, row, 0)))
    assert "blocks 1" in summary and summary.endswith("put on the opt-out list 0")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Suppression)) == 0
    assert db.session.scalar(sa.select(MailBlock.domain)) == "example.org"


def test_blocks_past_the_threshold_pause_marketing_to_that_domain_and_tell_the_dpo(make_app, mailbox, tmp_path):
    app = make_app(MAIL_BOUNCE_DOMAIN=BOUNCE_DOMAIN, MAIL_BLOCK_THRESHOLD=3)
    with app.app_context():
        create_staff("dpo@k-inventory.com", STAFF_PASSWORD, "dpo")
        db.session.commit()
        rows = [sent_to(f"lecteur{n}@example.org", kind="marketing") for n in range(3)]
        reports = [blocked("postfix-hard.eml", row, n) for n, row in enumerate(rows)]
        read_maildir(app.test_cli_runner(), maildir_with(tmp_path / "Maildir", *reports, reports[0]))
        mailbox.clear()
        for kind in ("marketing", "repermission", "transactional"):
            queue_mail(f"{kind}@example.org", "Nouveautés", "Bonjour.", kind=kind)
        queue_mail("ailleurs@example.net", "Nouveautés", "Bonjour.", kind="marketing")
        db.session.commit()
        deliver_due()
        received = sorted(message["To"] for message in mailbox.messages)
        assert received == ["ailleurs@example.net", "dpo@k-inventory.com", "transactional@example.org"]
        alert = next(m for m in mailbox.messages if m["To"] == "dpo@k-inventory.com")
        assert "example.org" in alert["Subject"] and "Personne n’a été désabonné" in alert.get_content()
        held = db.session.scalars(sa.select(OutboxMessage.status).where(
            OutboxMessage.recipient.in_(["marketing@example.org", "repermission@example.org"]))).all()
        assert held == ["pending", "pending"]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Suppression)) == 0


def test_an_e_mail_bounce_ends_the_e_mail_channel_only(verp_app, mailbox, tmp_path):
    client = verp_app.test_client()
    confirmed_subscriber(client, mailbox, "inconnu@example.org", ["evenements"], phone="+33612345678")
    row = sent_to("inconnu@example.org", kind="marketing")
    read_maildir(verp_app.test_cli_runner(), maildir_with(tmp_path / "Maildir", answering("postfix-hard.eml", row)))
    db.session.expire_all()
    person = subscriber("inconnu@example.org")
    assert person.email_status == "unsubscribed" and person.sms_status == "confirmed"
    assert person.slugs_with("active") == ["evenements"]
    assert db.session.scalars(sms_members_of("evenements")).all() == ["+33612345678"]
    assert not is_suppressed(Channel.SMS, phone="+33612345678")



def test_the_command_wants_one_source(runner, tmp_path):
    result = runner.invoke(args=["mail", "bounces"])
    assert result.exit_code != 0 and "--maildir DIR or --mbox FILE" in result.output


@pytest.mark.parametrize(("status", "diagnostic", "kind"), [
    ("5.1.1", "550 5.1.1 The email account that you tried to reach does not exist.", "hard"),
    ("5.1.10", "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup", "hard"),
    ("5.2.1", "550 5.2.1 The email account that you tried to reach is disabled.", "hard"),
    ("5.0.0", "550 No such user here", "hard"),
    ("5.1.1", "mx1.antispam.example.net: 550 5.1.1 <x@example.net>: Recipient address rejected: User unknown", "hard"),
    ("5.1.1", "550 5.1.1 Message rejected: sender IP listed on a blocklist", "block"),
    ("5.7.1", "554 5.7.1 Service unavailable; Client host [192.0.2.11] blocked using zen.spamhaus.org", "block"),
    ("5.7.606", "550 5.7.606 Access denied, banned sending IP [192.0.2.11]", "block"),
    ("5.7.26", "550 5.7.26 Unauthenticated email from k-inventory.com is not accepted due to domain's DMARC policy",
     "block"),
    ("5.0.0", "554 Message not accepted for policy reasons", "block"),
    ("5.0.0", "550 Mail refused: your IP is listed on a DNSBL", "block"),
    ("5.1.8", "553 5.1.8 Sender address rejected: Domain not found", "block"),
    ("4.2.2", "452 4.2.2 The recipient's inbox is out of storage space.", "soft"),
    ("4.7.1", "421 4.7.1 Try again later, rate limited", "soft"),
    ("5.2.2", "552 5.2.2 Mailbox full", "soft"),
    ("5.3.4", "552 5.3.4 Message too big for system", "soft"),
])
def test_each_status_is_read_as_providers_mean_it(status, diagnostic, kind):
    assert classify(status, diagnostic) == kind
