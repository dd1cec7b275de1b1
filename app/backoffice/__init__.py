"""The back-office of rights requests: the staff's queue by due date, and each request's timeline and actions."""

from flask import Blueprint

bp = Blueprint("backoffice", __name__, url_prefix="/admin")

from app.backoffice import closures, conservation, dashboard, policy, register, routes  # noqa: E402, F401
