"""The opt-out list: keyed by an HMAC, per channel and reason, kept when the person's data is erased."""

import pytest
import sqlalchemy as sa

from app.datamap import Person, covered_models, data_map, erase_person, export_person
from app.extensions import db
from app.personal import keyed_hash
from app.suppression.models import Suppression
from app.suppression.services import (
    SuppressionError,
    identifier_hash,
    is_suppressed,
    lift,
    suppress,
    suppression_reasons,
)


def entries() -> list[Suppression]:
    """Every row of the list."""
    return list(db.session.scalars(sa.select(Suppression)))


def test_an_address_is_stored_as_a_keyed_hash_of_its_normal_form(app):
    suppress("email", email="  Alice@Example.COM ", source="test")
    db.session.commit()
    [entry] = entries()
    assert entry.identifier_hash == keyed_hash("alice@example.com")
    assert "alice" not in entry.identifier_hash and entry.channel == "email" and entry.reason == "opt_out"
    assert entry.source == "test" and entry.created_at is not None
    assert is_suppressed("email", email="alice@example.com")
    assert not is_suppressed("email", email="bob@example.com")


def test_a_phone_number_is_normalised_to_e164_before_hashing(app):
    suppress("sms", phone="06 12 34 56 78", source="sms_stop")
    db.session.commit()
    assert entries()[0].identifier_hash == keyed_hash("+33612345678")
    assert is_suppressed("sms", phone="+33 6 12 34 56 78")
    assert not is_suppressed("email", email="x@example.com")


def test_channels_are_separate(app):
    suppress("sms", phone="+33612345678", source="sms_stop")
    db.session.commit()
    assert is_suppressed("sms", phone="+33612345678")
    with pytest.raises(SuppressionError):
        is_suppressed("email", phone="+33612345678")


def test_suppress_is_idempotent_and_keeps_the_first_date_and_source(app):
    first = suppress("email", email="a@example.com", source="one_click")
    db.session.commit()
    again = suppress("email", email="A@example.com", source="preferences")
    db.session.commit()
    assert again.id == first.id and len(entries()) == 1 and entries()[0].source == "one_click"


def test_lift_removes_one_reason_on_one_channel_only(app):
    suppress("email", email="a@example.com", source="one_click")
    suppress("email", email="a@example.com", source="rights", reason="restriction")
    suppress("sms", phone="+33612345678", source="sms_stop")
    db.session.commit()
    assert suppression_reasons("email", email="a@example.com") == {"opt_out", "restriction"}
    assert lift("email", email="a@example.com", reason="opt_out") is True
    db.session.commit()
    assert suppression_reasons("email", email="a@example.com") == {"restriction"}
    assert is_suppressed("email", email="a@example.com")
    assert is_suppressed("sms", phone="+33612345678")
    assert lift("email", email="a@example.com", reason="opt_out") is False
    assert lift("email", email="a@example.com", reason="restriction") is True
    db.session.commit()
    assert not is_suppressed("email", email="a@example.com")


def test_an_entry_added_and_lifted_before_commit_leaves_nothing(app):
    suppress("email", email="a@example.com", source="x")
    assert lift("email", email="a@example.com", reason="opt_out") is True
    db.session.commit()
    assert entries() == []


@pytest.mark.parametrize("call", [
    lambda: suppress("fax", email="a@example.com", source="x"),
    lambda: suppress("email", email="a@example.com", source="x", reason="dislike"),
    lambda: suppress("email", source="x"),
    lambda: suppress("email", email="not-an-address", source="x"),
    lambda: suppress("sms", phone="12", source="x"),
    lambda: suppress("sms", email="a@example.com", source="x"),
    lambda: lift("email", email="a@example.com", reason="other"),
    lambda: is_suppressed("push", email="a@example.com"),
])
def test_bad_arguments_are_refused_and_nothing_is_written(app, call):
    with pytest.raises(SuppressionError):
        call()
    db.session.commit()
    assert entries() == []


def test_identifier_hash_depends_on_the_server_key(make_app):
    first = make_app(HASH_KEY="k" * 40)
    second = make_app(HASH_KEY="z" * 40)
    with first.app_context():
        one = identifier_hash("email", email="a@example.com")
    with second.app_context():
        two = identifier_hash("email", email="a@example.com")
    assert one != two and len(one) == 64


def test_the_list_is_in_the_data_map_exported_and_never_erased(app):
    suppress("email", email="a@example.com", source="one_click")
    suppress("sms", phone="+33612345678", source="sms_stop")
    suppress("email", email="other@example.com", source="one_click")
    db.session.commit()
    assert Suppression in covered_models()
    kind = data_map()["liste_opposition"]
    with app.test_request_context("/"):
        assert "Obligation légale" in str(kind.legal_basis)
    person = Person(email="a@example.com", phone="+33612345678")
    exported = export_person(person)["liste_opposition"]
    assert sorted(row["channel"] for row in exported) == ["email", "sms"]
    assert all(row["source"] and row["created_at"] for row in exported)
    assert erase_person(person)["liste_opposition"] == 0
    db.session.commit()
    assert len(entries()) == 3
    assert is_suppressed("email", email="a@example.com") and is_suppressed("sms", phone="+33612345678")


def test_features_are_told_of_every_change_in_the_callers_transaction(app):
    from app.suppression.services import SuppressionChange, suppression_changed

    heard: list[SuppressionChange] = []

    def listen(change: SuppressionChange) -> None:
        heard.append(change)

    suppression_changed.connect(listen)
    try:
        suppress("email", email=" A@Example.com", source="rights", reason="restriction")
        suppress("email", email="a@example.com", source="rights", reason="restriction")
        lift("email", email="a@example.com", reason="restriction", source="rights")
        lift("email", email="a@example.com", reason="restriction")
        db.session.rollback()
    finally:
        suppression_changed.disconnect(listen)
    assert [(c.identifier, c.added, c.created) for c in heard] == [
        ("a@example.com", True, True), ("a@example.com", True, False), ("a@example.com", False, False)]
    assert heard[0].source == "rights" and heard[0].reason == "restriction" and heard[0].channel == "email"
    assert entries() == [], "nothing is written before the caller commits"
