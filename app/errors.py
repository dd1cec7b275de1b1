"""Error pages in the visitor's language with the site's layout: HTTP errors, forms that expired, bad links."""

import sqlalchemy as sa
from flask import Flask, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError

from app.crossorigin import CrossOriginRequest
from app.extensions import db
from app.faults import DatabaseUnavailable, from_fault
from app.headers import mark_private
from app.security import NulCharacter
from app.tokens import ExpiredLink, InvalidLink

TITLES = {
    400: _l("Requête invalide"),
    403: _l("Accès refusé"),
    404: _l("Page introuvable"),
    405: _l("Méthode non autorisée"),
    409: _l("Action impossible"),
    413: _l("Envoi trop volumineux"),
    429: _l("Trop de requêtes"),
    500: _l("Erreur du serveur"),
    503: _l("Service momentanément indisponible"),
}
EXPLANATIONS = {
    400: _l("La requête n’a pas pu être comprise. Vérifiez le lien ou le formulaire et réessayez."),
    403: _l("Vous n’avez pas accès à cette page."),
    404: _l("La page demandée n’existe pas ou a été déplacée."),
    405: _l("Cette adresse n’accepte pas ce type de requête."),
    409: _l("Cette action ne convient pas à l’état de la demande : rien n’a été modifié."),
    413: _l("Le formulaire envoyé dépasse la taille autorisée (64 Ko) : rien n’a été enregistré. "
            "Raccourcissez le texte et réessayez."),
    429: _l("Vous avez fait trop de demandes en peu de temps. Patientez quelques minutes puis réessayez."),
    500: _l("Une erreur inattendue s’est produite. Elle a été enregistrée\u202f; réessayez dans un instant."),
    503: _l("Notre base de données ne répond pas pour le moment. Réessayez dans une minute\u202f; si vous envoyiez "
            "un formulaire, envoyez-le de nouveau."),
}
NUL_EXPLANATION = _l("Le texte envoyé contient un caractère nul, que nous ne pouvons pas enregistrer : rien n’a "
                     "été modifié. Retapez le texte au lieu de le coller et réessayez.")
CSRF_EXPLANATION = _l("Le formulaire a expiré ou n’a pas pu être vérifié. Rechargez la page et réessayez.")
CROSS_ORIGIN_EXPLANATION = _l("Ce formulaire a été envoyé depuis un autre site : rien n’a été enregistré. Si c’était "
                              "bien vous, ouvrez la page sur notre site et envoyez-le de nouveau.")


def render_error(code: int, explanation=None):
    """The error page for a status code (private: no tag, no referrer, not cached)."""
    mark_private()
    return render_template(
        "errors/error.html", code=code, title=TITLES[code], explanation=explanation or EXPLANATIONS[code]
    ), code


def csrf_error(_error: CSRFError):
    """A form whose CSRF token expired or is missing."""
    return render_error(400, CSRF_EXPLANATION)


def cross_origin(_error: CrossOriginRequest):
    """A form another site's page sent through the visitor's browser."""
    return render_error(403, CROSS_ORIGIN_EXPLANATION)


def untrusted_host(_error: SecurityError):
    """A Host header outside TRUSTED_HOSTS: no page is built (no link could name the right host)."""
    return _("Hôte non autorisé."), 400, {"Content-Type": "text/plain; charset=utf-8"}


def nul_character(_error: NulCharacter):
    """A NUL character in the address or a field."""
    return render_error(400, NUL_EXPLANATION)


def http_error(error: HTTPException):
    """Any HTTP error with a page of ours; others (such as 413 from a proxy) pass through."""
    return render_error(error.code) if error.code in TITLES else error


def server_error(error: InternalServerError):
    """An unexpected failure: nothing half-written stays in the session (the database away: a 503)."""
    db.session.rollback()
    unavailable = from_fault(error)
    return render_error(500) if unavailable is None else database_unavailable(unavailable)


def database_unavailable(error: DatabaseUnavailable):
    """The database is away: our page when it can be built without it, a line of text otherwise, and when to try
    again."""
    db.session.rollback()
    headers = {"Retry-After": str(error.retry_after)}
    try:
        return render_error(503)[0], 503, headers
    except sa.exc.DBAPIError:  # the layout reads the database too
        db.session.rollback()
        return str(EXPLANATIONS[503]), 503, {**headers, "Content-Type": "text/plain; charset=utf-8"}


def invalid_link(error: InvalidLink):
    """A signed link we did not make, altered, cut or expired: say so, change nothing, say where to get another."""
    mark_private()
    return render_template("errors/invalid_link.html", error=error, expired=isinstance(error, ExpiredLink)), 400


def register_errorhandlers(app: Flask) -> None:
    """Attach the handlers."""
    app.register_error_handler(CSRFError, csrf_error)
    app.register_error_handler(CrossOriginRequest, cross_origin)
    app.register_error_handler(SecurityError, untrusted_host)
    app.register_error_handler(NulCharacter, nul_character)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(InternalServerError, server_error)
    app.register_error_handler(DatabaseUnavailable, database_unavailable)
    app.register_error_handler(InvalidLink, invalid_link)
