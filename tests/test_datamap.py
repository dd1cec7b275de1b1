"""The data map covers every model that holds personal data, so no table is forgotten by access or erasure."""

import sqlalchemy as sa

from app.datamap import covered_models, data_map, exemptions
from app.extensions import db

PERSONAL_HINTS = ("email", "phone", "name", "recipient", "ip", "address", "hash", "contact", "message", "browser")


def personal_columns(model) -> list[str]:
    """Text columns whose name says they may hold personal data."""
    return [c.name for c in model.__table__.columns
            if isinstance(c.type, sa.String | sa.Text) and any(hint in c.name for hint in PERSONAL_HINTS)]


def test_every_model_with_personal_fields_has_an_entry_or_a_stated_exemption(app):
    models = {mapper.class_ for mapper in db.Model.registry.mappers}
    forgotten = {m.__name__: personal_columns(m) for m in models
                 if personal_columns(m) and m not in covered_models() and m not in exemptions()}
    assert not forgotten, f"add these models to the data map (app.datamap.register): {forgotten}"


def test_every_entry_says_why_on_what_basis_for_whom_and_how_long(app):
    with app.test_request_context("/"):
        for kind in data_map().values():
            assert all(str(text).strip() for text in (kind.purpose, kind.legal_basis, kind.recipients, kind.retention))


# The legal bases the policy names (section 4), as the register words them.
POLICY_BASES = ("Consentement", "Exécution d’un contrat", "Intérêt légitime", "Intérêts légitimes", "Obligation légale")


def test_every_legal_basis_is_one_the_policy_names(app):
    with app.test_request_context("/"):
        for name, kind in data_map().items():
            basis = str(kind.legal_basis)
            assert any(word in basis for word in POLICY_BASES), f"{name}: {basis!r} names no basis of the policy"


def test_every_table_of_the_map_has_a_retention_rule(app):
    from app.retention.register import all_rules

    governed = {table for rule in all_rules() for table in rule.tables}
    for name, kind in data_map().items():
        tables = {model.__table__.name for model in kind.models}
        assert tables & governed, f"{name}: no retention rule keeps {sorted(tables)} to its stated duration"


def test_a_stranger_has_nothing_to_export_or_erase(app, policy):
    from app.datamap import Person

    stranger = Person(email="personne@example.org", phone="+33699999999")
    with app.test_request_context("/"):
        assert {name: kind.export(stranger) for name, kind in data_map().items()} == dict.fromkeys(data_map(), [])
        assert {name: kind.erase(stranger) for name, kind in data_map().items()} == dict.fromkeys(data_map(), 0)


def test_two_apps_in_one_process_keep_their_own_registries(app, make_app):
    from app.datamap import DATA_MAP
    from app.retention.register import REGISTER

    other = make_app()
    for name in (DATA_MAP, REGISTER, "kinv.mail_template_sources", "kinv.page_variants"):
        assert app.extensions[name] == other.extensions[name] and app.extensions[name] is not other.extensions[name]
