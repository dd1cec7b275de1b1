"""Home page of K-Inventory's privacy site."""

from flask import render_template

from app.i18n import localized_route
from app.main import bp
from app.pagecache import cached_page


@localized_route(bp, "/", "/en/")
@cached_page
def home(lang: str):
    """What K-Inventory is, and where each privacy promise is kept."""
    return render_template("main/home.html")
