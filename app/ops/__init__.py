"""What operators need: health checks, Prometheus metrics, structured request logs."""

from flask import Blueprint

bp = Blueprint("ops", __name__)

from app.ops import health, metrics  # noqa: E402, F401
