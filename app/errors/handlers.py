"""Render 400, 403, 404, 405, 429 and 500 with the site's layout."""

from flask import Flask, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

TITLES = {
    400: _l("Requête invalide"),
    403: _l("Accès refusé"),
    404: _l("Page introuvable"),
    405: _l("Méthode non autorisée"),
    429: _l("Trop de requêtes"),
    500: _l("Erreur du serveur"),
}
EXPLANATIONS = {
    400: _l("La requête n’a pas pu être comprise. Vérifiez le lien ou le formulaire et réessayez."),
    403: _l("Vous n’avez pas accès à cette page."),
    404: _l("La page demandée n’existe pas ou a été déplacée."),
    405: _l("Cette adresse n’accepte pas ce type de requête."),
    429: _l("Vous avez fait trop de demandes en peu de temps. Patientez quelques minutes puis réessayez."),
    500: _l("Une erreur inattendue s’est produite. Elle a été enregistrée ; réessayez dans un instant."),
}
CSRF_EXPLANATION = _l("Le formulaire a expiré ou n’a pas pu être vérifié. Rechargez la page et réessayez.")


def render_error(code: int, explanation=None):
    """The error page for a status code."""
    return render_template(
        "errors/error.html", code=code, title=TITLES[code], explanation=explanation or EXPLANATIONS[code]
    ), code


def register(app: Flask) -> None:
    """Attach the handlers."""

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(400, CSRF_EXPLANATION)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code in TITLES:
            return render_error(error.code)
        return error

    @app.errorhandler(InternalServerError)
    def server_error(error):
        from app.extensions import db

        db.session.rollback()
        return render_error(500)
