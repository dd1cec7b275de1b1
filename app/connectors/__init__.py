"""Connected systems (the K-Inventory product, a CRM, a helpdesk): rights requests sent to them, their answers."""

from flask import Blueprint

bp = Blueprint("connectors", __name__)

from app.connectors import routes  # noqa: E402, F401
