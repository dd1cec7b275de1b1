"""The record of processing activities (GDPR article 30), built from the data map and the cookie register.

One activity per kind of data of the data map (its retention period included) and one per cookie category, with the
columns of the CNIL's template. Nothing is typed twice: change the data map or the cookie register, the record follows.
"""

import json
from dataclasses import asdict, dataclass

from flask import Response, abort, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.backoffice import bp
from app.consent.register import SITE, Category
from app.consent.services import current_register
from app.datamap import NO_TRANSFER, POLICY_SAFEGUARDS, REGISTER_FIELDS, SITE_SECURITY, DataKind, data_map
from app.policy.services import CONTROLLER_ADDRESS, CONTROLLER_NAME
from app.rights.package import csv_text

# The CNIL template's columns, in its order, with their headings.
COLUMNS = {
    "name": _l("Activité de traitement"),
    "purpose": _l("Finalité"),
    "legal_basis": _l("Base légale"),
    "people": _l("Catégories de personnes concernées"),
    "data_categories": _l("Catégories de données"),
    "recipients": _l("Destinataires"),
    "processors": _l("Sous-traitants"),
    "transfers": _l("Transferts hors de l’Union européenne"),
    "safeguards": _l("Garanties des transferts"),
    "retention": _l("Durée de conservation"),
    "security": _l("Mesures de sécurité"),
}
VISITORS = _l("Visiteurs du site.")
BROWSING_DATA = _l("Identifiants enregistrés dans le navigateur (cookies) et données de navigation qu’ils "
                   "permettent de collecter\u00a0: pages vues, appareil, interactions.")
# The cookie categories' own columns: what the cookie register does not say. A category without its entry fails a test.
COOKIE_COLUMNS = {
    "necessary": {"data_categories": _l("Jeton de session et anti-falsification, choix de cookies signé, jeton "
                                        "reCAPTCHA sur la page de contact."),
                  "transfers": _l("reCAPTCHA\u00a0: données techniques pouvant être traitées par Google LLC aux "
                                  "États-Unis.")},
    "analytics": {"transfers": _l("Google Analytics\u00a0: données pouvant être traitées par Google LLC aux "
                                  "États-Unis.")},
    "advertising": {"transfers": _l("Google Ads et Meta Pixel\u00a0: données pouvant être traitées par Google LLC "
                                    "et Meta Platforms, Inc. aux États-Unis.")},
    "affiliation": {"transfers": NO_TRANSFER, "safeguards": POLICY_SAFEGUARDS},
}
DPF_SAFEGUARDS = _l("Cadre de protection des données UE–États-Unis (Data Privacy Framework) et clauses contractuelles "
                    "types de la Commission européenne.")
COOKIE_SECURITY = _l("%(site)s Aucun cookie facultatif avant le consentement, durées plafonnées à 13 mois, preuve de "
                     "chaque choix.", site=SITE_SECURITY)


@dataclass(frozen=True)
class Activity:
    """One line of the record, column by column (text in the current language)."""

    key: str
    name: str
    purpose: str
    legal_basis: str
    people: str
    data_categories: str
    recipients: str
    processors: str
    transfers: str
    safeguards: str
    retention: str
    security: str


def from_data_kind(kind: DataKind) -> Activity:
    """An activity of the data map: every column comes from its entry."""
    columns = {name: str(getattr(kind, name)) for name in REGISTER_FIELDS if name != "title"}
    return Activity(key=kind.name, name=str(kind.title), **columns)


def cookie_retention(category: Category) -> str:
    """The lifetime of each cookie of a category, and how long the choice itself holds."""
    lifetimes = "\u202f; ".join(f"{cookie.name}\u00a0: {cookie.lifetime}" for cookie in category.cookies)
    return _("%(lifetimes)s. Choix de l’internaute conservé 6 mois.", lifetimes=lifetimes)


def from_cookie_category(category: Category) -> Activity:
    """An activity of the cookie register: purpose, basis, providers and lifetimes from the register."""
    own = COOKIE_COLUMNS[category.key]
    providers = sorted({service.provider for service in category.services})
    outside = [f"{service.provider} — {service.name}" for service in category.services if service.provider != SITE]
    return Activity(
        key=f"cookies_{category.key}", name=_("Cookies\u00a0: %(category)s", category=category.name),
        purpose=str(category.description), legal_basis=str(category.legal_basis), people=str(VISITORS),
        data_categories=str(own.get("data_categories", BROWSING_DATA)), recipients=", ".join(providers) + ".",
        processors=(", ".join(outside) + ".") if outside else _("Aucun."),
        transfers=str(own["transfers"]), safeguards=str(own.get("safeguards", DPF_SAFEGUARDS)),
        retention=cookie_retention(category), security=str(COOKIE_SECURITY))


def activities() -> list[Activity]:
    """Every processing activity: the data map's kinds by name, then the cookie categories in the register's order."""
    kinds = [from_data_kind(kind) for _name, kind in sorted(data_map().items())]
    return kinds + [from_cookie_category(category) for category in current_register().categories]


def headings() -> dict[str, str]:
    """The columns' headings in the current language."""
    return {key: str(label) for key, label in COLUMNS.items()}


def export_text(fmt: str) -> str:
    """The record as CSV (for a spreadsheet: BOM, semicolons, the CNIL's headings) or JSON (with the controller)."""
    rows = [asdict(activity) for activity in activities()]
    if fmt == "json":
        return json.dumps({"controller": {"name": CONTROLLER_NAME, "address": CONTROLLER_ADDRESS},
                           "activities": rows}, ensure_ascii=False, indent=1)
    titles = headings()
    return csv_text([{titles[key]: row[key] for key in COLUMNS} for row in rows])


@bp.route("/registre")
def register():
    """The record of processing activities, one section per activity."""
    return render_template("backoffice/register.html", activities=activities(), columns=headings(),
                           controller=CONTROLLER_NAME, address=CONTROLLER_ADDRESS)


@bp.route("/registre.<fmt>")
def register_export(fmt: str):
    """The record as a CSV or JSON download."""
    if fmt not in ("csv", "json"):
        abort(404)
    mimetype = "text/csv" if fmt == "csv" else "application/json"
    return Response(export_text(fmt), mimetype=mimetype,
                    headers={"Content-Disposition": f"attachment; filename=registre-des-traitements.{fmt}"})
