"""Ad audiences (policy, section 4): only confirmed, consenting, not opted-out people, hashed as each platform asks."""

import csv
import hashlib

import pytest
import sqlalchemy as sa

from app.audiences.models import AudienceExport, AudienceMember
from app.datamap import Person, erase_person
from app.extensions import db
from app.newsletter.models import ChannelStatus, Subscriber
from app.suppression.services import suppress
from tests.support.consent import choose, save_preferences
from tests.support.newsletter import confirmed_subscriber, subscribe


def sha(value: str) -> str:
    """SHA-256 hex, computed here from the platform's documented normal form."""
    return hashlib.sha256(value.encode()).hexdigest()


def reader(app, mailbox, email: str, choice: str | None, lists=("actualites-produit",)):
    """A visitor who makes a cookie choice, then subscribes and confirms from the same browser (returned)."""
    client = app.test_client()
    if choice:
        assert choose(client, choice).status_code in (200, 303)
    confirmed_subscriber(client, mailbox, email, lists)
    return client


@pytest.fixture
def people(app, mailbox):
    """Who is who: one consenting reader (a Gmail address with dots and a proven number), and six who do not
    qualify for one reason each."""
    browser = reader(app, mailbox, "Jean.Dupont@Gmail.com", "accept_all")
    db.session.execute(sa.update(Subscriber).where(Subscriber.email == "jean.dupont@gmail.com").values(
        phone="+33612345678", sms_status=ChannelStatus.CONFIRMED))
    db.session.commit()
    reader(app, mailbox, "refus@example.com", "refuse_all")
    reader(app, mailbox, "sans-choix@example.com", None)
    reader(app, mailbox, "oppose@example.com", "accept_all")
    suppress("email", email="oppose@example.com", source="staff")
    db.session.commit()
    reader(app, mailbox, "autre-liste@example.com", "accept_all", lists=("evenements",))
    subscribe(app.test_client(), "pas-confirme@example.com")
    db.session.commit()
    return browser


def rows(path) -> list[list[str]]:
    """The CSV as a platform reads it."""
    with path.open(newline="") as handle:
        return list(csv.reader(handle))


def export(runner, tmp_path, platform: str, *extra: str):
    """Run the command; the file it wrote."""
    out = tmp_path / f"{platform}.csv"
    result = runner.invoke(args=["audiences", "export", "--platform", platform, "--list", "actualites-produit",
                                 "--out", str(out), "--by", "marketing@k-inventory.com", *extra])
    assert result.exit_code == 0, result.output
    return out


def test_google_gets_only_the_consenting_confirmed_reader_hashed_as_documented(runner, tmp_path, people):
    out = export(runner, tmp_path, "google")
    assert rows(out) == [["Email", "Phone"], [sha("jeandupont@gmail.com"), sha("+33612345678")]]
    assert "gmail" not in out.read_text() and "3361" not in out.read_text(), "never an identifier in clear"
    [record] = db.session.scalars(sa.select(AudienceExport)).all()
    assert (record.platform, record.list_slug, record.count, record.made_by) == (
        "google", "actualites-produit", 1, "marketing@k-inventory.com")
    assert record.checksum == hashlib.sha256(out.read_bytes()).hexdigest() and not record.removals


def test_meta_gets_lower_case_addresses_and_numbers_without_plus(runner, tmp_path, people):
    out = export(runner, tmp_path, "meta")
    assert rows(out) == [["email", "phone"], [sha("jean.dupont@gmail.com"), sha("33612345678")]]


def test_withdrawing_or_erasure_puts_the_person_in_the_next_removals_file(app, runner, tmp_path, people):
    export(runner, tmp_path, "meta")
    choose(app.test_client(), "refuse_all")
    assert rows(export(runner, tmp_path, "meta", "--removals-since", "2000-01-01")) == [["email", "phone"]], \
        "a refusal from a browser that is not the reader's changes nothing"
    save_preferences(people, "refuse_all")  # the reader withdraws, from their own browser
    removals = export(runner, tmp_path, "meta", "--removals-since", "2000-01-01")
    assert rows(removals) == [["email", "phone"], [sha("jean.dupont@gmail.com"), sha("33612345678")]]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AudienceMember)) == 0
    assert rows(export(runner, tmp_path, "meta")) == [["email", "phone"]], "no longer in the audience"


def test_an_erased_person_is_removed_whatever_the_date(app, runner, tmp_path, people):
    export(runner, tmp_path, "meta")
    erase_person(Person(email="jean.dupont@gmail.com"))
    db.session.commit()
    removals = export(runner, tmp_path, "meta", "--removals-since", "2099-01-01")
    assert rows(removals) == [["email", "phone"], [sha("jean.dupont@gmail.com"), sha("33612345678")]]
    assert rows(export(runner, tmp_path, "meta", "--removals-since", "2000-01-01")) == [["email", "phone"]]


def test_an_opt_out_after_the_export_is_a_removal(app, runner, tmp_path, people):
    export(runner, tmp_path, "google")
    suppress("email", email="jean.dupont@gmail.com", source="one_click")
    db.session.commit()
    assert rows(export(runner, tmp_path, "google", "--removals-since", "2099-01-01")) == [["Email", "Phone"]], \
        "the change is older than the date asked"
    removals = export(runner, tmp_path, "google", "--removals-since", "2000-01-01")
    assert rows(removals)[1] == [sha("jeandupont@gmail.com"), sha("+33612345678")]
    assert rows(export(runner, tmp_path, "google")) == [["Email", "Phone"]]


def test_an_unknown_list_is_refused(runner, tmp_path):
    result = runner.invoke(args=["audiences", "export", "--platform", "google", "--list", "nope",
                                 "--out", str(tmp_path / "x.csv")])
    assert result.exit_code != 0 and "unknown list" in result.output
