"""The privacy policy: versioned French text, English courtesy translation."""

from flask import Blueprint

bp = Blueprint("policy", __name__)

from app.policy import routes  # noqa: E402, F401
