"""The product's data in the data map: the date of a customer's last activity."""

from flask_babel import lazy_gettext as _l

from app.datamap import HOSTING, SITE_SECURITY, DataKind, Person, delete_rows, rows_of
from app.product.models import ClientActivity


def export_activity(person: Person) -> list[dict]:
    """The address and the date the client period runs from."""
    return [{"email": row.email, "last_activity_at": row.last_activity_at.isoformat(),
             "lapsed_at": row.lapsed_at.isoformat() if row.lapsed_at else None}
            for row in rows_of(ClientActivity, person)]


def erase_activity(person: Person) -> int:
    """Delete it."""
    return delete_rows(rows_of(ClientActivity, person))


# What this feature adds to the data map (registered in create_app).
KINDS = (
    DataKind(
        name="activite_client", models=(ClientActivity,),
        purpose=_l("Savoir depuis quand court la durée de conservation de trois ans de vos données de client."),
        legal_basis=_l("Intérêt légitime\u00a0: la relation commerciale avec nos clients."),
        retention=_l("Trois ans après votre dernière activité dans le produit K-Inventory, puis 30 jours pour "
                     "répondre à notre demande de renouvellement."),
        recipients=_l("K-Technology & Services uniquement."),
        title=_l("Activité des clients"),
        people=_l("Clients du produit K-Inventory."),
        data_categories=_l("Adresse e-mail, date de la dernière activité."),
        processors=HOSTING, transfers=(),
        security=SITE_SECURITY, export=export_activity, erase=erase_activity,
        fields=("email", "last_activity_at", "lapsed_at"),
    ),
)
