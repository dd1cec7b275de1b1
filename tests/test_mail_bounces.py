"""Bounces and complaints: VERP return paths, real-world DSN and ARF samples read from a Maildir or an mbox."""

import mailbox
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.database import utcnow
from app.extensions import db
from app.mail.bounces import verp_tag
from app.mail.models import OutboxMessage, SoftBounce
from app.mail.services import deliver_due, queue_mail
from app.personal import keyed_hash
from app.suppression.models import Channel, Suppression
from app.suppression.services import is_suppressed

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


@pytest.mark.parametrize("sample", sorted(EXPECTED))
def test_each_sample_has_the_right_effect(app, runner, tmp_path, sample):
    kind, address = EXPECTED[sample]
    read_maildir(runner, maildir_with(tmp_path / "Maildir", (SAMPLES / sample).read_bytes()))
    db.session.expire_all()
    if kind in ("bounce", "complaint"):
        assert is_suppressed(Channel.EMAIL, email=address) and source_of(address) == kind
        reasons = db.session.scalars(sa.select(Suppression.reason)).all()
        assert reasons == ["opt_out"]
    else:
        assert not is_suppressed(Channel.EMAIL, email=address)
    soft = db.session.scalars(sa.select(SoftBounce)).all()
    assert [row.address_hash for row in soft] == ([keyed_hash(address)] if kind == "soft" else [])


def test_a_maildir_is_read_once_and_an_mbox_in_full(app, runner, tmp_path):
    contents = [(SAMPLES / name).read_bytes() for name in sorted(EXPECTED)]
    folder = maildir_with(tmp_path / "Maildir", *contents)
    summary = "read 8: hard 4, soft 2, complaints 1, no failure found 1; put on the opt-out list 5"
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


def soft_report(number: int) -> bytes:
    """The Gmail soft bounce (4.2.2, mailbox full), as a distinct report each time."""
    return (SAMPLES / "gmail-soft.eml").read_bytes().replace(
        b"SMTPIN_ADDED_MISSING", f"SMTPIN_ADDED_MISSING{number}".encode())


def test_five_soft_bounces_within_30_days_count_as_a_hard_one(app, runner, tmp_path):
    address = "boite.pleine@example.com"
    for number in range(4):
        read_maildir(runner, maildir_with(tmp_path / f"Maildir{number}", soft_report(number), soft_report(number)))
    assert not is_suppressed(Channel.EMAIL, email=address), "four soft bounces (one read twice) are not enough"
    summary = read_maildir(runner, maildir_with(tmp_path / "Maildir4", soft_report(4)))
    assert summary.endswith("put on the opt-out list 1")
    assert is_suppressed(Channel.EMAIL, email=address) and source_of(address) == "bounce"


def test_soft_bounces_older_than_30_days_neither_count_nor_stay(app, runner, tmp_path):
    address = "boite.pleine@example.com"
    for number in range(4):
        db.session.add(SoftBounce(address_hash=keyed_hash(address), report_hash=f"old{number}", status="4.2.2",
                                  bounced_at=utcnow() - timedelta(days=31)))
    db.session.commit()
    read_maildir(runner, maildir_with(tmp_path / "Maildir", soft_report(0)))
    assert not is_suppressed(Channel.EMAIL, email=address)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SoftBounce)) == 1, "the old ones are purged"


@pytest.fixture
def verp_app(make_app):
    """The app with a bounce domain, inside an app context."""
    app = make_app(MAIL_BOUNCE_DOMAIN=BOUNCE_DOMAIN)
    with app.app_context():
        yield app


def sent_to(address: str) -> OutboxMessage:
    """Queue and deliver one message; its row."""
    queue_mail(address, "Nouveautés", "Bonjour.")
    db.session.commit()
    deliver_due()
    return db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.recipient == address))


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
    read_maildir(verp_app.test_cli_runner(), maildir_with(tmp_path / "Maildir", report))
    assert not is_suppressed(Channel.EMAIL, email=row.recipient)
    assert is_suppressed(Channel.EMAIL, email="inconnu@example.org")


def test_a_complaint_ends_the_newsletter_for_that_reader(app, client, mailbox, runner, tmp_path):
    from tests.support.newsletter import confirmed_subscriber, subscriber

    confirmed_subscriber(client, mailbox, "plaignant@example.net")
    read_maildir(runner, maildir_with(tmp_path / "Maildir", (SAMPLES / "arf-complaint.eml").read_bytes()))
    db.session.expire_all()
    assert subscriber("plaignant@example.net").email_status != "confirmed"


def test_the_command_wants_one_source(runner, tmp_path):
    result = runner.invoke(args=["mail", "bounces"])
    assert result.exit_code != 0 and "--maildir DIR or --mbox FILE" in result.output
