"""Error pages in the visitor's language."""

from flask import Blueprint

bp = Blueprint("errors", __name__)
