"""Home page of K-Inventory's privacy site."""

from app.i18n import localized_route
from app.main import bp
from app.templating import render_shared


@localized_route(bp, "/", "/en/")
def home(lang: str):
    """What K-Inventory is, and where each privacy promise is kept."""
    return render_shared("main/home.html")
