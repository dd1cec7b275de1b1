"""Staff accounts: constant-time login, failures that slow the client down but never lock the account (its owner is
mailed), sessions that end (logout, password, role, deactivation, idle and absolute timeouts), a new session at
login, the TOTP second factor and its recovery codes, passwords."""

import re
import statistics
import time

import pyotp
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from app.auth.models import StaffUser
from app.auth.routes import LOGIN_AT, SEEN_AT
from app.auth.services import create_staff, find_staff
from app.database import utcnow
from app.extensions import db
from tests.conftest import csrf_token, submit_form
from tests.support.newsletter import deliver_mail, latest_mail
from tests.support.pages import vnu_errors
from tests.support.rights import (
    STAFF_PASSWORD,
    enrol_staff,
    from_network,
    log_in_with_password,
    next_totp_code,
    second_factor,
    staff_client,
)

WRONG = "Adresse e-mail ou mot de passe incorrect."


def timed_login(client, email: str) -> float:
    """Seconds one wrong login takes, form post only."""
    token = csrf_token(client.get("/admin/connexion").get_data(as_text=True))
    start = time.perf_counter()
    response = client.post("/admin/connexion", data={"csrf_token": token, "email": email, "password": "wrong pass"})
    elapsed = time.perf_counter() - start
    assert response.status_code == 400 and WRONG in response.get_data(as_text=True)
    return elapsed


def test_a_wrong_password_costs_as_long_for_a_known_and_an_unknown_address(make_app):
    app = make_app(RATELIMIT_ENABLED=False)
    with app.app_context():
        create_staff("agent@k-inventory.com", STAFF_PASSWORD, "agent")
    client = app.test_client()
    known, unknown = [], []
    for _ in range(7):  # alternated, so a busy machine slows both alike
        known.append(timed_login(client, "agent@k-inventory.com"))
        unknown.append(timed_login(client, "nobody@k-inventory.com"))
    ratio = statistics.median(known) / statistics.median(unknown)
    assert 0.6 < ratio < 1.7, (known, unknown)


def test_failures_slow_down_the_client_never_the_account(make_app):
    app = make_app()
    with app.app_context():
        create_staff("agent@k-inventory.com", STAFF_PASSWORD, "agent")
        stranger = from_network(app, "198.51.100.7")
        for _ in range(3):
            assert log_in_with_password(stranger, "agent@k-inventory.com", "wrong password!").status_code == 400
        assert log_in_with_password(stranger, "agent@k-inventory.com").status_code == 429, "slowed down"
        for address in ("198.51.100.8", "198.51.100.9"):  # the same /24: the same client
            assert log_in_with_password(from_network(app, address), "agent@k-inventory.com").status_code == 429
        owner = from_network(app, "203.0.113.20")
        assert log_in_with_password(owner, "agent@k-inventory.com").status_code == 303, "the account is not locked"
        other = from_network(app, "198.51.100.10")
        assert log_in_with_password(other, "someone-else@k-inventory.com", "x" * 12).status_code == 400


def test_wrong_codes_slow_down_the_client_whatever_else_the_post_carries(make_app):
    app = make_app()
    with app.app_context():
        staff_client(app)
        stranger = from_network(app, "198.51.100.7")
        log_in_with_password(stranger, "agent@k-inventory.com")
        statuses = [submit_form(stranger, "/admin/verification", {"code": "123456", "email": f"x{n}@example.fr"})
                    .status_code for n in range(4)]
        assert statuses == [400, 400, 400, 429]
        owner = from_network(app, "203.0.113.20")
        log_in_with_password(owner, "agent@k-inventory.com")
        assert second_factor(owner, "123456").status_code == 400, "another network still gets its own tries"


def test_failures_from_many_networks_never_lock_the_account(make_app):
    app = make_app()
    with app.app_context():
        create_staff("agent@k-inventory.com", STAFF_PASSWORD, "agent")
        for minute in range(4):
            stranger = from_network(app, f"198.51.{100 + minute}.7")
            for _ in range(3):
                log_in_with_password(stranger, "agent@k-inventory.com", "wrong password!")
        assert find_staff("agent@k-inventory.com").failed_logins == 12
        enrol_staff(from_network(app, "203.0.113.20"), "agent@k-inventory.com")
        db.session.expire_all()
        assert find_staff("agent@k-inventory.com").failed_logins == 0, "a login starts the count again"


def test_the_owner_is_mailed_after_five_failures_with_the_time_and_the_network(make_app, mailbox):
    app = make_app(RATELIMIT_ENABLED=False)
    with app.app_context():
        create_staff("agent@k-inventory.com", STAFF_PASSWORD, "agent")
        for number in range(4):
            log_in_with_password(from_network(app, f"198.51.100.{number}"), "agent@k-inventory.com", "wrong pass!")
        deliver_mail()
        assert mailbox.to("agent@k-inventory.com") == []
        log_in_with_password(from_network(app, "2001:db8:1234:5678::9"), "agent@k-inventory.com", "wrong pass!")
        mail = latest_mail(mailbox, "agent@k-inventory.com")
        text = mail.get_body(("plain",)).get_content()
        assert "5 tentatives de connexion" in text and "2001:db8:1234::/48" in text
        assert utcnow().strftime("%Y-%m-%d %H:") in text and "5678" not in text
        assert "n’est pas bloqué" in text


def session_cookie(client) -> str:
    """The session cookie's value."""
    return client.get_cookie("session").value


def with_cookie(app, value: str):
    """Another browser holding a copy of a session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", value)
    return thief


def test_a_copied_cookie_dies_at_logout(app):
    staff = staff_client(app)
    copied = session_cookie(staff)
    assert with_cookie(app, copied).get("/admin/").status_code == 200
    page = staff.get("/admin/").get_data(as_text=True)
    assert staff.post("/admin/deconnexion", data={"csrf_token": csrf_token(page)}).status_code == 303
    assert with_cookie(app, copied).get("/admin/").status_code == 302
    assert staff.get("/admin/").status_code == 302


@pytest.mark.parametrize("command", [
    ["users", "deactivate", "agent@k-inventory.com"],
    ["users", "set-role", "agent@k-inventory.com", "--role", "dpo"],
    ["users", "reset-2fa", "agent@k-inventory.com"],
])
def test_account_changes_end_every_session(app, runner, command):
    staff = staff_client(app)
    assert runner.invoke(args=command).exit_code == 0
    assert staff.get("/admin/").status_code == 302


def test_the_dpo_deactivates_an_account_on_purpose_and_activates_it_again(app, runner):
    create_staff("agent@k-inventory.com", STAFF_PASSWORD, "agent")
    assert runner.invoke(args=["users", "deactivate", "agent@k-inventory.com"]).exit_code == 0
    assert log_in_with_password(app.test_client(), "agent@k-inventory.com").status_code == 400
    result = runner.invoke(args=["users", "activate", "agent@k-inventory.com"])
    assert result.exit_code == 0 and "may log in again" in result.output
    assert log_in_with_password(app.test_client(), "agent@k-inventory.com").status_code == 303


def test_a_password_change_ends_every_session(app, runner):
    staff = staff_client(app)
    new = "un autre mot de passe bien long"
    result = runner.invoke(args=["users", "set-password", "agent@k-inventory.com"], input=f"{new}\n{new}\n")
    assert result.exit_code == 0, result.output
    assert staff.get("/admin/").status_code == 302


def test_login_gives_a_new_session_and_csrf_token(app):
    create_staff("agent@k-inventory.com", STAFF_PASSWORD, "agent")
    client = app.test_client()
    before = csrf_token(client.get("/admin/connexion").get_data(as_text=True))
    enrol_staff(client, "agent@k-inventory.com")
    after = csrf_token(client.get("/admin/").get_data(as_text=True))
    assert before != after


def signed_days_ago(app, raw: str, days: int) -> str:
    """The session's CSRF secret signed as Flask-WTF signs it, by a clock set back some days."""

    class Earlier(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - days * 86400

    return URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="wtf-csrf-token", signer=Earlier).dumps(raw)


@pytest.mark.parametrize(("days", "status"), [(400, 400), (1, 400), (0, 303)])
def test_a_staff_csrf_token_lives_no_longer_than_a_staff_session(app, days, status):
    staff = staff_client(app)
    staff.get("/admin/")  # a page with a form: the session's CSRF secret
    with staff.session_transaction() as session:
        raw = session["csrf_token"]
    response = staff.post("/admin/deconnexion", data={"csrf_token": signed_days_ago(app, raw, days)})
    assert response.status_code == status
    assert staff.get("/admin/").status_code == (200 if status == 400 else 302)


@pytest.mark.parametrize(("key", "age"), [(SEEN_AT, 31 * 60), (LOGIN_AT, 12 * 3600 + 60)])
def test_idle_and_absolute_timeouts(app, key, age):
    staff = staff_client(app)
    with staff.session_transaction() as session:
        session[key] -= age
    response = staff.get("/admin/")
    assert response.status_code == 302 and "/admin/connexion" in response.headers["Location"]
    assert staff.get("/admin/").status_code == 302


def test_activity_keeps_the_session_alive(app):
    staff = staff_client(app)
    with staff.session_transaction() as session:
        session[SEEN_AT] -= 29 * 60
        session[LOGIN_AT] -= 11 * 3600
    assert staff.get("/admin/").status_code == 200


def test_the_password_alone_opens_nothing(app):
    create_staff("agent@k-inventory.com", STAFF_PASSWORD, "agent")
    client = app.test_client()
    assert log_in_with_password(client, "agent@k-inventory.com").status_code == 303
    assert client.get("/admin/").status_code == 302


def test_second_login_with_a_code_and_with_a_recovery_code_once(make_app):
    app = make_app(RATELIMIT_ENABLED=False)
    with app.app_context():
        staff = staff_client(app)
        secret, recovery = staff.enrolment["secret"], staff.enrolment["recovery_codes"]
        client = app.test_client()
        assert log_in_with_password(client, "agent@k-inventory.com").headers["Location"].endswith("/verification")
        assert second_factor(client, "000000").status_code == 400
        code = next_totp_code(secret)
        assert second_factor(client, code).status_code == 303
        assert client.get("/admin/").status_code == 200
        again = app.test_client()
        log_in_with_password(again, "agent@k-inventory.com")
        assert second_factor(again, code).status_code == 400  # a code is accepted once
        assert second_factor(again, recovery[0]).status_code == 303
        third = app.test_client()
        log_in_with_password(third, "agent@k-inventory.com")
        assert second_factor(third, recovery[0]).status_code == 400
        assert second_factor(third, recovery[1].upper().replace("-", " ")).status_code == 303


def test_the_second_step_expires_after_5_minutes(make_app):
    app = make_app(RATELIMIT_ENABLED=False)
    with app.app_context():
        staff = staff_client(app)
        client = app.test_client()
        log_in_with_password(client, "agent@k-inventory.com")
        with client.session_transaction() as session:
            session["staff_pending"] = {**session["staff_pending"], "at": session["staff_pending"]["at"] - 301}
        token = csrf_token(client.get("/admin/connexion").get_data(as_text=True))
        response = client.post("/admin/verification", data={"csrf_token": token,
                                                             "code": next_totp_code(staff.enrolment["secret"])})
        assert response.status_code == 303 and response.headers["Location"].endswith("/admin/connexion")
        assert client.get("/admin/").status_code == 302


def test_wrong_codes_count_towards_the_owners_warning(make_app, mailbox):
    app = make_app(RATELIMIT_ENABLED=False)
    with app.app_context():
        staff_client(app)
        client = app.test_client()
        log_in_with_password(client, "agent@k-inventory.com")
        for _ in range(5):
            assert second_factor(client, "123456").status_code == 400
        assert "5 tentatives" in latest_mail(mailbox, "agent@k-inventory.com").get_body(("plain",)).get_content()
        assert log_in_with_password(app.test_client(), "agent@k-inventory.com").status_code == 303


def test_enrolment_page_is_valid_html_with_an_inline_svg_qr_code(app, tmp_path):
    create_staff("agent@k-inventory.com", STAFF_PASSWORD, "agent")
    client = app.test_client()
    log_in_with_password(client, "agent@k-inventory.com")
    page = client.get("/admin/activation")
    html = page.get_data(as_text=True)
    assert "<svg" in html and "style=" not in html.split("<svg", 1)[1].split("</svg>")[0]
    assert "<img" not in html and page.headers["Cache-Control"] == "private, no-store"
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', html).group(1)
    codes_page = client.post("/admin/activation", data={"csrf_token": csrf_token(html),
                                                        "code": pyotp.TOTP(secret).now()})
    assert vnu_errors({"enrol.html": page.data, "codes.html": codes_page.data}, tmp_path) == []


@pytest.mark.parametrize(("password", "message"), [
    ("court", "au moins 12 caractères"),
    ("motdepasse123", "se devine trop facilement"),
    ("azertyuiopqs", "force 2 sur 4"),
])
def test_weak_passwords_are_refused_in_french(runner, password, message):
    result = runner.invoke(args=["users", "create-staff", "agent@k-inventory.com"], input=f"{password}\n{password}\n")
    assert result.exit_code != 0 and message in result.output
    assert db.session.query(StaffUser).count() == 0


def test_create_staff_prints_the_otpauth_uri_once_and_list_shows_the_accounts(runner):
    result = runner.invoke(args=["users", "create-staff", "dpo@k-inventory.com", "--role", "dpo"],
                           input=f"{STAFF_PASSWORD}\n{STAFF_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert re.search(r"otpauth://totp/K-Inventory:dpo%40k-inventory\.com\?secret=[A-Z2-7]+&issuer=K-Inventory",
                     result.output)
    listing = runner.invoke(args=["users", "list"]).output
    assert "dpo@k-inventory.com\tdpo\tactive\t2FA not enrolled\tlast login never" in listing
    assert "otpauth" not in listing


@pytest.mark.browser
def test_enrolment_in_chromium_without_csp_violation(live_server, page):
    with live_server.server.app.app_context():
        create_staff("agent@k-inventory.com", STAFF_PASSWORD, "agent")
    violations = []
    page.on("console", lambda message: violations.append(message.text) if "Content Security Policy" in message.text
            else None)
    page.goto(live_server.url + "/admin/connexion")
    page.get_by_label("Adresse e-mail").fill("agent@k-inventory.com")
    page.get_by_label("Mot de passe").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/admin/activation")
    assert page.locator("figure.qr-code svg").bounding_box()["width"] > 100
    page.get_by_label("Code à six chiffres").fill(pyotp.TOTP(page.locator("#totp-secret").inner_text()).now())
    page.get_by_role("button", name="Activer").click()
    page.get_by_role("heading", name="Vos codes de secours").wait_for()
    assert page.locator(".recovery-codes li").count() == 10
    page.get_by_role("link", name="Continuer vers le back-office").click()
    assert page.get_by_role("heading", level=1).inner_text()
    assert violations == []
