"""The K-Inventory product's side: its signed events (account closed, customer activity), the preference link it
gives signed-in customers, and the opt-out check it asks before calling or posting."""

from flask import Blueprint

bp = Blueprint("product", __name__)

from app.product import routes  # noqa: E402, F401
