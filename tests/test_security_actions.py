"""Rules in services: one table of actions per request type, status and role (409 for the rest, nothing changed),
read by the request page; one transaction per staff action (a failure in the middle leaves nothing half-done)."""

import re

import pytest
import sqlalchemy as sa

from app.auth.models import Role
from app.database import utcnow
from app.extensions import db
from app.newsletter import services as newsletter_services
from app.rights import models as m
from app.rights import rectification
from app.rights import services as rights_services
from app.rights.fulfilment import RULES, Action, offered_actions
from app.suppression.models import Channel
from app.suppression.services import is_suppressed
from tests.support.newsletter import confirmed_subscriber, subscriber
from tests.support.rights import confirmed_request, send_request, staff_action, staff_client, stored_request
from tests.test_security_input import row_counts as all_row_counts

EMAIL, PHONE = "jeanne@example.fr", "+33612345678"
FORM_DATA = {Action.NOTE: {"text": "x"}, Action.RECTIFY: {"name": "Autre Nom"}, Action.EXTEND: {"months": "1",
             "reason": "x"}, Action.REFUSE: {"reason": "x"}, Action.ANSWER: {"text": "x"}}


def row_counts() -> dict[str, int]:
    """Rows per table, the journal of staff reads aside (opening the request page before acting is a read)."""
    return {name: count for name, count in all_row_counts().items() if name != "staff_reads"}


class Staff:
    """A role, as the table reads it."""

    def __init__(self, role: str) -> None:
        self.role, self.email = role, f"{role}@k-inventory.com"


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("status", list(m.Status))
@pytest.mark.parametrize("kind", list(m.Kind))
def test_the_table_allows_data_actions_only_on_their_type_once_confirmed_and_open(kind, status, role):
    confirmed_at = None if status == m.Status.UNCONFIRMED else utcnow()
    request = m.RightsRequest(kind=kind, status=status, confirmed_at=confirmed_at)
    offered = offered_actions(request, Staff(role))
    for action in offered:
        rule = RULES[action]
        assert rule.kinds is None or kind in rule.kinds
        assert status in rule.statuses and role in rule.roles
    if status in m.CLOSED_STATUSES:
        assert offered == {Action.NOTE}
    if role == Role.AGENT:
        assert not offered & {Action.ERASE, Action.REFUSE}
    if status == m.Status.UNCONFIRMED:
        assert not offered & {a for a, rule in RULES.items() if rule.confirmed}


def page_actions(staff, reference: str) -> set[str]:
    """The actions the request page offers (its forms' addresses)."""
    html = staff.get(f"/admin/demandes/{reference}").get_data(as_text=True)
    return set(re.findall(rf'action="/admin/demandes/{reference}/([a-z-]+)"', html))


@pytest.mark.parametrize(("role", "kind", "action"), [
    ("dpo", "access", Action.ERASE),          # erasing on an access request deleted the request itself
    ("agent", "access", Action.OPT_OUT),
    ("agent", "access", Action.RESTRICT),
    ("agent", "erasure", Action.RECTIFY),
    ("agent", "erasure", Action.ERASE),
    ("agent", "access", Action.REFUSE),
    ("dpo", "objection", Action.PACKAGE),
    ("dpo", "question", Action.DIRECTIVES),
])
def test_an_action_outside_the_table_is_a_409_in_french_and_changes_nothing(app, client, mailbox, role, kind, action):
    confirmed_subscriber(client, mailbox, EMAIL)
    reference = confirmed_request(client, mailbox, kind=kind).reference
    staff = staff_client(app, role)
    assert action not in page_actions(staff, reference)
    before = row_counts()
    response = staff_action(staff, reference, action, **FORM_DATA.get(action, {}))
    assert response.status_code == 409
    assert "Cette action ne s’applique pas" in response.get_data(as_text=True) or "Seul le délégué" in (
        response.get_data(as_text=True))
    assert row_counts() == before and stored_request().status == m.Status.CONFIRMED


def test_closed_and_unconfirmed_requests_refuse_what_the_table_refuses(app, client, mailbox):
    send_request(client, kind="erasure")
    reference = stored_request().reference
    dpo = staff_client(app, "dpo")
    assert page_actions(dpo, reference) == {"repondre", "prolonger", "refuser", "note"}
    response = staff_action(dpo, reference, Action.ERASE)
    assert response.status_code == 409 and "pas encore confirmé" in response.get_data(as_text=True)
    assert staff_action(dpo, reference, Action.ANSWER, text="Réponse").status_code == 303
    assert page_actions(dpo, reference) == {"note"}
    for action in (Action.ANSWER, Action.EXTEND, Action.REFUSE):
        assert staff_action(dpo, reference, action, **FORM_DATA[action]).status_code == 409


@pytest.mark.parametrize("kind", list(m.Kind))
def test_the_page_offers_exactly_what_the_table_allows(app, client, mailbox, kind):
    request_ = confirmed_request(client, mailbox, kind=kind, designated_name="Paul", designated_contact="p@x.fr",
                                 correction="Nom")
    for role in Role:
        staff = staff_client(app, role, email=f"{role}-{kind}@k-inventory.com")
        expected = {str(action) for action in offered_actions(request_, Staff(role))}
        assert page_actions(staff, request_.reference) == expected


def explode(*_args, **_kwargs):
    """A stand-in that raises where the real function would have run (the failure injected)."""
    raise RuntimeError("injected failure")


def test_a_failure_in_the_middle_of_an_opt_out_leaves_nothing_half_done(make_app, mailbox, monkeypatch):
    app = make_app(PROPAGATE_EXCEPTIONS=False)
    with app.app_context():
        client = app.test_client()
        confirmed_subscriber(client, mailbox, EMAIL, phone="06 12 34 56 78")
        reference = confirmed_request(client, mailbox, kind="objection", phone="06 12 34 56 78").reference
        staff = staff_client(app)
        before = row_counts()
        real = newsletter_services.suppress

        def suppress_then_fail_on_sms(channel, **kwargs):
            if channel == Channel.SMS:
                raise RuntimeError("injected failure")  # after the e-mail lists were left
            return real(channel, **kwargs)

        monkeypatch.setattr(newsletter_services, "suppress", suppress_then_fail_on_sms)
        assert staff_action(staff, reference, Action.OPT_OUT).status_code == 500
        assert row_counts() == before
        person = subscriber(EMAIL)
        assert person.email_status == "confirmed" and person.slugs_with("active")
        assert not is_suppressed(Channel.EMAIL, email=EMAIL) and stored_request().status == m.Status.CONFIRMED


def test_a_failure_in_the_middle_of_an_erasure_leaves_everything(make_app, mailbox, monkeypatch):
    app = make_app(PROPAGATE_EXCEPTIONS=False)
    with app.app_context():
        client = app.test_client()
        confirmed_subscriber(client, mailbox, EMAIL)
        reference = confirmed_request(client, mailbox, kind="erasure").reference
        dpo = staff_client(app, "dpo")
        before = row_counts()
        real = rights_services.log

        def log_then_fail_after_erasing(request, action, *args, **kwargs):
            if action == "erased":
                raise RuntimeError("injected failure")  # every kind of data already deleted in this transaction
            return real(request, action, *args, **kwargs)

        monkeypatch.setattr(rights_services, "log", log_then_fail_after_erasing)
        assert staff_action(dpo, reference, Action.ERASE, confirmed="1").status_code == 500
        assert row_counts() == before and subscriber(EMAIL) is not None


def test_a_failure_in_the_middle_of_a_rectification_changes_no_field(make_app, mailbox, monkeypatch):
    app = make_app(PROPAGATE_EXCEPTIONS=False)
    with app.app_context():
        client = app.test_client()
        confirmed_subscriber(client, mailbox, EMAIL, phone="06 12 34 56 78")
        reference = confirmed_request(client, mailbox, kind="rectification", correction="Adresse",
                                      phone="06 12 34 56 78").reference
        staff = staff_client(app)
        before = row_counts()
        monkeypatch.setitem(rectification.RECTIFIERS, "phone", explode)
        response = staff_action(staff, reference, Action.RECTIFY, name="Jeanne Dupont", email="jeanne@nouveau.fr",
                                phone="06 98 76 54 32")  # name and e-mail done, then the phone fails
        assert response.status_code == 500, re.findall(r'class="error"[^>]*>([^<]+)', response.get_data(as_text=True))
        assert row_counts() == before
        db.session.expire_all()
        assert subscriber(EMAIL) is not None and subscriber("jeanne@nouveau.fr") is None
        assert db.session.scalar(sa.select(m.RightsRequest.name).where(
            m.RightsRequest.reference == reference)) == "Jeanne Martin"
