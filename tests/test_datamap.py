"""The data map covers every model that holds personal data, so no table is forgotten by access or erasure."""

import sqlalchemy as sa

from app.datamap import DATA_MAP, EXEMPT, covered_models
from app.extensions import db

PERSONAL_HINTS = ("email", "phone", "name", "recipient", "ip", "address", "hash", "contact", "message", "browser")


def personal_columns(model) -> list[str]:
    """Text columns whose name says they may hold personal data."""
    return [c.name for c in model.__table__.columns
            if isinstance(c.type, sa.String | sa.Text) and any(hint in c.name for hint in PERSONAL_HINTS)]


def test_every_model_with_personal_fields_has_an_entry_or_a_stated_exemption(app):
    models = {mapper.class_ for mapper in db.Model.registry.mappers}
    forgotten = {m.__name__: personal_columns(m) for m in models
                 if personal_columns(m) and m not in covered_models() and m not in EXEMPT}
    assert not forgotten, f"add these models to the data map (app.datamap.register): {forgotten}"


def test_every_entry_says_why_on_what_basis_for_whom_and_how_long(app):
    with app.test_request_context("/"):
        for kind in DATA_MAP.values():
            assert all(str(text).strip() for text in (kind.purpose, kind.legal_basis, kind.recipients, kind.retention))
