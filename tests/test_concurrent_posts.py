"""The same POST twice at the same moment (as mail providers and proxies send one-click unsubscribes) is applied once:
against a live server, the two requests released together, on SQLite and PostgreSQL alike."""

import http.client
import re
from datetime import UTC, datetime, timedelta
from functools import partial
from urllib.parse import urlencode, urlsplit

import pytest
import sqlalchemy as sa

from app.consent.models import ConsentRecord
from app.consent.services import choices_for, current_register
from app.consent.state import ConsentState, encode
from app.extensions import db
from app.newsletter import services as newsletter
from app.newsletter.events import Source, Step
from app.newsletter.links import confirm_token, manage_token
from app.newsletter.models import ChannelStatus, ListStatus, SubscriberEvent
from app.suppression.models import Suppression
from tests.conftest import csrf_token
from tests.support.live import LiveServer, all_at_once, serving

PEOPLE = 8  # each with their own pair of simultaneous requests: a race lost once is enough to fail
SLUG = "actualites-produit"


@pytest.fixture
def live(make_app):
    """A live server (no rate limit: every request here comes from 127.0.0.1) and its app context."""
    with serving(make_app(RATELIMIT_ENABLED=False)) as server:
        yield server


def request(server: LiveServer, method: str, path: str, data: dict | None = None, cookie: str = ""):
    """One HTTP request on its own connection; the status, the body and the cookies set."""
    connection = http.client.HTTPConnection(urlsplit(server.url).netloc, timeout=30)
    headers = {"Cookie": cookie} if cookie else {}
    body = None
    if data is not None:
        body, headers["Content-Type"] = urlencode(data, doseq=True), "application/x-www-form-urlencoded"
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    text = response.read().decode()
    cookies = "; ".join(value.split(";", 1)[0] for name, value in response.getheaders() if name == "Set-Cookie")
    connection.close()
    return response.status, text, cookies


def form_session(server: LiveServer, path: str, cookie: str = "") -> tuple[str, str]:
    """GET a page as a browser would: its session cookie (with any cookie given) and the form's CSRF token."""
    _status, html, cookies = request(server, "GET", path, cookie=cookie)
    return "; ".join(part for part in (cookie, cookies) if part), csrf_token(html)


def at_once(server: LiveServer, pairs: list[tuple[str, dict, str]]) -> list[int]:
    """POST every (path, data, cookie) twice, all released at the same moment; the statuses."""
    jobs = [job for job in pairs for _twice in range(2)]
    return all_at_once([partial(post_status, server, *job) for job in jobs])


def post_status(server: LiveServer, path: str, data: dict, cookie: str) -> int:
    """One POST's status."""
    return request(server, "POST", path, data, cookie)[0]


def people(confirmed: bool = True) -> list:
    """Subscribers of one list, confirmed or waiting for confirmation."""
    found = []
    for number in range(PEOPLE):
        email = f"lecteur{number}@example.com"
        newsletter.request_subscription(email, [SLUG])
        subscriber = newsletter.find_by_email(email)
        if confirmed:
            newsletter.confirm(subscriber)
        found.append(subscriber)
    return found


def events(subscriber, action: str) -> list[SubscriberEvent]:
    """The subscriber's events of one kind, fresh from the database."""
    db.session.expire_all()
    return list(db.session.scalars(sa.select(SubscriberEvent).where(
        SubscriberEvent.subscriber_id == subscriber.id, SubscriberEvent.action == action)))


def test_one_click_unsubscribe_posted_twice_at_once_is_recorded_once(live):
    readers = people()
    pairs = [(f"/newsletter/desabonnement/{manage_token(reader.public_id, SLUG)}",
              {"List-Unsubscribe": "One-Click"}, "") for reader in readers]
    assert at_once(live, pairs) == [200] * 2 * PEOPLE
    for reader in readers:
        [event] = events(reader, Step.UNSUBSCRIBED)
        assert event.source == Source.ONE_CLICK
        assert reader.subscription(SLUG).status == ListStatus.UNSUBSCRIBED
        assert reader.email_status == ChannelStatus.UNSUBSCRIBED
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Suppression).where(
            Suppression.identifier_hash == reader.email_hash)) == 1


def test_confirmation_posted_twice_at_once_is_recorded_once(live):
    readers = people(confirmed=False)
    pairs = []
    for reader in readers:
        path = f"/newsletter/confirmer/{confirm_token(reader.public_id)}"
        cookie, token = form_session(live, path)
        pairs.append((path, {"csrf_token": token}, cookie))
    assert at_once(live, pairs) == [200] * 2 * PEOPLE
    for reader in readers:
        assert len(events(reader, Step.CONFIRMED)) == 1
        assert reader.subscription(SLUG).status == ListStatus.ACTIVE


def test_resubscribe_posted_twice_at_once_asks_once(live):
    readers = people()
    for reader in readers:
        newsletter.unsubscribe(reader, SLUG, Source.UNSUBSCRIBE_PAGE)
    pairs = []
    for reader in readers:
        path = f"/newsletter/reabonnement/{manage_token(reader.public_id, SLUG)}"
        cookie, token = form_session(live, path)
        pairs.append((path, {"csrf_token": token}, cookie))
    assert at_once(live, pairs) == [303] * 2 * PEOPLE
    for reader in readers:
        requests = [e for e in events(reader, Step.SUBSCRIBE_REQUESTED) if e.source == Source.RESUBSCRIBE]
        assert len(requests) == 1
        assert reader.subscription(SLUG).status == ListStatus.PENDING


def test_consent_withdrawal_posted_twice_at_once_is_recorded_once(live):
    decided = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    register = current_register()
    pairs = []
    for number in range(PEOPLE):
        consent_id = f"00000000-0000-4000-8000-{number:012d}"
        with live.server.app.test_request_context("/"):
            accepted = choices_for("accept_all")
            cookie = "kinv_consent=" + encode(ConsentState(consent_id, accepted, register.version, decided))
        db.session.add(ConsentRecord(consent_id=consent_id, recorded_at=decided, choices=accepted,
                                     register_version=register.version, action="accept_all", withdrawal=False,
                                     source="banner", channel="no-js"))
        db.session.commit()
        cookie, token = form_session(live, "/cookies", cookie)
        pairs.append(("/cookies/choix", {"csrf_token": token, "choice": "refuse_all", "next": "/"}, cookie))
    assert at_once(live, pairs) == [303] * 2 * PEOPLE
    db.session.expire_all()
    for number in range(PEOPLE):
        records = list(db.session.scalars(sa.select(ConsentRecord).where(
            ConsentRecord.consent_id == f"00000000-0000-4000-8000-{number:012d}").order_by(ConsentRecord.id)))
        assert [(record.action, record.withdrawal) for record in records] == [
            ("accept_all", False), ("refuse_all", True)]


def test_the_same_choice_made_again_later_is_still_recorded(live):
    cookie, token = form_session(live, "/confidentialite")
    status, _html, chosen = request(live, "POST", "/cookies/choix", {"csrf_token": token, "choice": "refuse_all"},
                                    cookie)
    assert status == 303
    cookie = f"{cookie}; {chosen}"  # the browser sends the new cookie: the same choice again is a new one
    assert request(live, "POST", "/cookies/choix", {"csrf_token": token, "choice": "refuse_all"}, cookie)[0] == 303
    [consent_id] = set(db.session.scalars(sa.select(ConsentRecord.consent_id)))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ConsentRecord)) == 2
    assert re.fullmatch(r"[0-9a-f-]{36}", consent_id)
