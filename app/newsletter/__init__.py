"""Newsletter and SMS marketing: double opt-in, one-click unsubscribe, STOP by SMS, the preference centre."""

from flask import Blueprint

bp = Blueprint("newsletter", __name__)

from app.newsletter import routes, stay_routes  # noqa: E402, F401
