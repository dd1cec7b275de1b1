"""Cookie consent: the register, the banner, the preferences page, the proof of every choice."""

from flask import Blueprint

bp = Blueprint("consent", __name__)

from app.consent import hooks, routes  # noqa: E402, F401
