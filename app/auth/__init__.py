"""Staff accounts of the back-office: who they are, their role, logging in and out."""

from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/admin")

from app.auth import routes  # noqa: E402, F401
