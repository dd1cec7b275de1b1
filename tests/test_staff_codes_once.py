"""A second-factor code is spent once, even when several logins post it at the same moment: a TOTP step and a
recovery code are taken by a conditional UPDATE in the transaction that records the login, on SQLite and PostgreSQL,
through a live server. Codes are ASCII digits: any other digit is a wrong code (400), never an error page."""

from functools import partial

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from app.auth.services import create_staff
from app.extensions import db
from tests.conftest import POSTGRESQL_URL, csrf_token
from tests.support.live import LiveServer, all_at_once
from tests.support.rights import STAFF_PASSWORD, enrol_staff, log_in_with_password, next_totp_code, second_factor
from tests.test_concurrent_posts import request

EMAIL = "agent@k-inventory.com"
LOGINS = 3
SCHEMA = "staff_codes"


@pytest.fixture(params=["test database", "postgresql"])
def live(request, make_app):
    """A live server on the run's database, and on PostgreSQL (its own schema) whatever the run's database."""
    overrides = {"RATELIMIT_ENABLED": False}
    if request.param == "postgresql":
        overrides["SQLALCHEMY_DATABASE_URI"] = POSTGRESQL_URL + f"?options=-csearch_path%3D{SCHEMA}"
    app = make_app(**overrides)
    with app.app_context():
        if request.param == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}"))
            db.metadata.create_all(db.engine)
        server = LiveServer(app).start()
        yield app, server
        server.stop()
        if request.param == "postgresql":
            db.session.remove()
            with db.engine.begin() as connection:
                connection.execute(sa.text(f"DROP SCHEMA {SCHEMA} CASCADE"))


def at_the_code_step(server: LiveServer) -> tuple[str, str]:
    """A browser that passed the password: its cookie and the code form's CSRF token."""
    _status, page, cookie = request(server, "GET", "/admin/connexion")
    status, _body, cookie = request(server, "POST", "/admin/connexion", {
        "csrf_token": csrf_token(page), "email": EMAIL, "password": STAFF_PASSWORD}, cookie)
    assert status == 303
    _status, page, with_token = request(server, "GET", "/admin/verification", cookie=cookie)
    return with_token or cookie, csrf_token(page)


def post_at_once(server: LiveServer, code: str) -> list[int]:
    """LOGINS browsers post the same code, released together; their statuses."""
    browsers = [at_the_code_step(server) for _ in range(LOGINS)]
    return sorted(all_at_once([partial(post_code, server, code, *browser) for browser in browsers]))


def post_code(server: LiveServer, code: str, cookie: str, token: str) -> int:
    """One browser's post of the code; its status."""
    return request(server, "POST", "/admin/verification", {"csrf_token": token, "code": code}, cookie)[0]


def test_one_code_posted_by_three_logins_at_once_opens_one_session(live):
    app, server = live
    create_staff(EMAIL, STAFF_PASSWORD, "agent")
    enrolment = enrol_staff(app.test_client(), EMAIL)
    assert post_at_once(server, next_totp_code(enrolment["secret"])) == [303, 400, 400]
    assert post_at_once(server, enrolment["recovery_codes"][0]) == [303, 400, 400]


UNICODE_DIGITS = ["١٢٣٤٥٦", "۱۲۳۴۵۶", "¹²³⁴⁵⁶", "１２３４５６", "𝟏𝟐𝟑𝟒𝟓𝟔", "١٢٣-٤٥٦"]


@pytest.fixture
def at_code_step(make_app):
    """A client that passed the password of an enrolled account (no rate limit)."""
    app = make_app(RATELIMIT_ENABLED=False)
    with app.app_context():
        create_staff(EMAIL, STAFF_PASSWORD, "agent")
        enrol_staff(app.test_client(), EMAIL)
        client = app.test_client()
        log_in_with_password(client, EMAIL)
        yield client


@pytest.mark.parametrize("code", UNICODE_DIGITS)
def test_digits_other_than_ascii_are_a_wrong_code(at_code_step, code):
    response = second_factor(at_code_step, code)
    assert response.status_code == 400 and "Code incorrect" in response.get_data(as_text=True)


def test_any_text_at_the_code_step_is_a_page_never_an_error(at_code_step):
    @given(st.text(max_size=50))
    def typed(code):
        response = second_factor(at_code_step, code)
        assert response.status_code in (400, 303), code
        if response.status_code == 303:
            log_in_with_password(at_code_step, EMAIL)

    typed()
