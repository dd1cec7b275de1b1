"""Helpers for the rights tests: sending the contact form, reading links from real e-mails, staff sessions."""

import sqlalchemy as sa

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
    """A test client logged in as a new staff member of that role."""
    email = email or f"{role}@k-inventory.com"
    create_staff(email, STAFF_PASSWORD, role)
    client = app.test_client()
    response = submit_form(client, "/admin/connexion", {"email": email, "password": STAFF_PASSWORD})
    assert response.status_code == 303, response.get_data(as_text=True)
    return client


def staff_action(client, reference: str, action: str, **data):
    """Press one action's button on a request page, with the page's CSRF token."""
    page = client.get(f"/admin/demandes/{reference}").get_data(as_text=True)
    return client.post(f"/admin/demandes/{reference}/{action}", data={"csrf_token": csrf_token(page), **data})


__all__ = ["latest_mail", "links", "path_of", "text_part"]
