"""Rights requests: the contact form, the requester's signed links, deadlines, and the staff's actions."""

from flask import Blueprint

bp = Blueprint("rights", __name__)

from app.rights import routes  # noqa: E402, F401
