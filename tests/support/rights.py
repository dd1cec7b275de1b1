"""Helpers for the rights tests: sending the contact form, reading links from real e-mails, staff sessions."""

import re
import time

import pyotp
import sqlalchemy as sa

from app.auth.models import StaffUser
from app.auth.services import create_staff
from app.extensions import db
from app.rights.models import RightsRequest
from tests.conftest import csrf_token, submit_form
from tests.support.newsletter import latest_mail, links, path_of, text_part

STAFF_PASSWORD = "correct horse battery staple"


def send_request(client, email: str = "jeanne@example.fr", kind: str = "access", url: str = "/contact", **fields):
    """Fill and send the contact form as a visitor would."""
    data = {"name": "Jeanne Martin", "email": email, "kind": kind, "message": "Merci de traiter ma demande.",
            **fields}
    return submit_form(client, url, data)


def stored_request(email: str = "jeanne@example.fr") -> RightsRequest | None:
    """The newest request from an address, fresh from the database."""
    db.session.expire_all()
    return db.session.scalar(sa.select(RightsRequest).where(RightsRequest.email == email).order_by(
        RightsRequest.id.desc()))


def confirmed_request(client, mailbox, email: str = "jeanne@example.fr", kind: str = "access", **fields):
    """A request whose sender followed the link of the acknowledgement e-mail."""
    assert send_request(client, email, kind, **fields).status_code == 303
    [link] = links(latest_mail(mailbox, email), "/demande/confirmer/")
    assert submit_form(client, path_of(link), {}).status_code == 303
    return stored_request(email)


def staff_client(app, role: str = "agent", email: str | None = None):
    """A test client logged in as a new staff member of that role, through the real forms (password, then the
    second factor enrolled with the code pyotp computes from the secret shown on the page)."""
    email = email or f"{role}@k-inventory.com"
    create_staff(email, STAFF_PASSWORD, role)
    client = app.test_client()
    client.enrolment = enrol_staff(client, email)
    return client


def from_network(app, address: str):
    """A test client whose requests come from this address."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def log_in_with_password(client, email: str, password: str = STAFF_PASSWORD, next_path: str = ""):
    """The first step of the login form; returns the answer (303 to the second step when right)."""
    url = "/admin/connexion" + (f"?next={next_path}" if next_path else "")
    return submit_form(client, url, {"email": email, "password": password})


def enrol_staff(client, email: str, password: str = STAFF_PASSWORD) -> dict:
    """First login: password, then the QR page's secret turned into a code; the recovery codes shown once."""
    response = log_in_with_password(client, email, password)
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/activation"), (
        response.get_data(as_text=True))
    page = client.get("/admin/activation").get_data(as_text=True)
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', page).group(1)
    response = client.post("/admin/activation", data={"csrf_token": csrf_token(page),
                                                      "code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200, response.get_data(as_text=True)
    codes = re.findall(r"<li><code>([0-9a-f]{8}-[0-9a-f]{8})</code></li>", response.get_data(as_text=True))
    assert len(codes) == 10
    return {"secret": secret, "recovery_codes": codes}


def second_factor(client, code: str):
    """The second step of a later login."""
    return submit_form(client, "/admin/verification", {"code": code})


def next_totp_code(secret: str) -> str:
    """A code the server has not seen yet (the next 30-second step: it accepts one step of drift)."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def log_in_browser(page, live_server, email: str, password: str = STAFF_PASSWORD) -> None:
    """Log an enrolled staff member in from a browser page: password, then the next code of their second factor
    (a code serves once: to open a second browser, give it the first one's storage state instead)."""
    with live_server.server.app.app_context():
        secret = db.session.scalar(sa.select(StaffUser.totp_secret).where(StaffUser.email == email))
    page.goto(live_server.url + "/admin/connexion")
    page.fill("#email", email)
    page.fill("#password", password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/admin/verification*")
    page.get_by_label("Code à six chiffres").fill(next_totp_code(secret))
    page.get_by_role("button", name="Valider").click()
    page.wait_for_url("**/admin/")


def staff_action(client, reference: str, action: str, **data):
    """Press one action's button on a request page, with the page's CSRF token."""
    page = client.get(f"/admin/demandes/{reference}").get_data(as_text=True)
    return client.post(f"/admin/demandes/{reference}/{action}", data={"csrf_token": csrf_token(page), **data})


__all__ = ["latest_mail", "links", "path_of", "text_part"]
