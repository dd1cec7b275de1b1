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
from app.backoffice.selfcheck import disagreements
from app.connectors.services import systems
from app.consent.register import Category
from app.consent.services import current_register
from app.datamap import NO_TRANSFER, POLICY_SAFEGUARDS, REGISTER_FIELDS, SITE_SECURITY, DataKind, data_map
from app.policy.services import CONTROLLER_ADDRESS, CONTROLLER_NAME
from app.processors import processor
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
# What the cookie register does not say of a category (the others' data are BROWSING_DATA).
COOKIE_DATA = {"necessary": _l("Jeton de session et anti-falsification, choix de cookies signé, jeton reCAPTCHA sur "
                               "la page de contact.")}
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


def processors_text(keys: tuple[str, ...]) -> str:
    """The processors named from the one list, with what each does."""
    return ("\u202f; ".join(str(processor(key)) for key in keys) + ".") if keys else _("Aucun.")


def transfer_columns(keys: tuple[str, ...]) -> dict[str, str]:
    """The transfers declared, from the list, each with its safeguard (once each)."""
    declared = [processor(key) for key in dict.fromkeys(keys)]
    if not declared:
        return {"transfers": str(NO_TRANSFER), "safeguards": str(POLICY_SAFEGUARDS)}
    safeguards = dict.fromkeys(str(found.safeguard) for found in declared)
    return {"transfers": " ".join(str(found.transfer) for found in declared), "safeguards": " ".join(safeguards)}


def recipients_text(kind: DataKind) -> str:
    """The kind's recipients, with the connected systems that receive it."""
    names = [system.name for system in systems()] if kind.connected_systems else []
    if not names:
        return str(kind.recipients)
    return _("%(recipients)s Systèmes connectés qui reçoivent chaque demande\u00a0: %(systems)s.",
             recipients=kind.recipients, systems=", ".join(names))


def from_data_kind(kind: DataKind) -> Activity:
    """An activity of the data map: every column comes from its entry and the processors' list."""
    columns = {name: str(getattr(kind, name)) for name in REGISTER_FIELDS if name != "title"}
    columns["recipients"] = recipients_text(kind)
    return Activity(key=kind.name, name=str(kind.title), processors=processors_text(kind.processors),
                    **transfer_columns(kind.transfers), **columns)


def cookie_retention(category: Category) -> str:
    """The lifetime of each cookie of a category, and how long the choice itself holds."""
    lifetimes = "\u202f; ".join(f"{cookie.name}\u00a0: {cookie.lifetime}" for cookie in category.cookies)
    return _("%(lifetimes)s. Choix de l’internaute conservé 6 mois.", lifetimes=lifetimes)


def from_cookie_category(category: Category) -> Activity:
    """An activity of the cookie register: purpose, basis, providers and lifetimes from the register."""
    providers = sorted({service.provider for service in category.services})
    used = tuple(dict.fromkeys(service.processor for service in category.services if service.processor))
    return Activity(
        key=f"cookies_{category.key}", name=_("Cookies\u00a0: %(category)s", category=category.name),
        purpose=str(category.description), legal_basis=str(category.legal_basis), people=str(VISITORS),
        data_categories=str(COOKIE_DATA.get(category.key, BROWSING_DATA)), recipients=", ".join(providers) + ".",
        processors=processors_text(used), retention=cookie_retention(category), security=str(COOKIE_SECURITY),
        **transfer_columns(tuple(key for key in used if processor(key).outside_eea)))


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
                           "activities": rows, "disagreements": [asdict(item) for item in disagreements()]},
                          ensure_ascii=False, indent=1)
    titles = headings()
    return csv_text([{titles[key]: row[key] for key in COLUMNS} for row in rows])


@bp.route("/registre")
def register():
    """The record of processing activities, one section per activity."""
    return render_template("backoffice/register.html", activities=activities(), columns=headings(),
                           controller=CONTROLLER_NAME, address=CONTROLLER_ADDRESS, disagreements=disagreements())


@bp.route("/registre.<fmt>")
def register_export(fmt: str):
    """The record as a CSV or JSON download."""
    if fmt not in ("csv", "json"):
        abort(404)
    mimetype = "text/csv" if fmt == "csv" else "application/json"
    return Response(export_text(fmt), mimetype=mimetype,
                    headers={"Content-Disposition": f"attachment; filename=registre-des-traitements.{fmt}"})
