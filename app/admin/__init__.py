"""The staff back-office: login, the queue of requests by due date, and each request's actions."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from app.admin import models, routes, services  # noqa: E402, F401
