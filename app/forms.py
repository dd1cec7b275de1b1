"""The base classes of every form: WTForms' own messages in the page's language; public forms without a CSRF token."""

from dataclasses import dataclass
from functools import cache

from babel.support import Translations
from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms.i18n import messages_path
from wtforms.widgets import ListWidget


class Form(FlaskForm):
    """Every form of the site: WTForms' own messages in the page's language, read once per language."""

    class Meta:
        def get_translations(self, form):
            """The page language's WTForms catalogue (Flask-WTF would read it again for every request)."""
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return wtforms_catalogue(str(get_locale() or "fr"))


class PublicForm(Form):
    """A form of the public pages: no CSRF token (its page is the same for every visitor; app.crossorigin checks
    where a post comes from)."""

    class Meta:
        csrf = False


@cache
def wtforms_catalogue(locale: str) -> Translations:
    """WTForms' messages translated into one language."""
    return Translations.load(messages_path(), [locale], domain="wtforms")


# The error summary's title unless a page gives its own (defined here: pybabel skips templates/_macros/).
NOT_SENT = _l("Le formulaire n’a pas été envoyé\u00a0: corrigez les champs signalés.")


@dataclass(frozen=True)
class ErrorLink:
    """One message of an error summary and the id of the field it sends the reader to (None: no field)."""

    message: str
    target: str | None


def failed_forms(*forms) -> list[tuple[FlaskForm, dict]]:
    """The forms (each alone or with a map of field name to the id its page gives it) that hold an error."""
    pairs = [item if isinstance(item, tuple) else (item, {}) for item in forms]
    return [(form, ids) for form, ids in pairs if form is not None and form.errors]


def error_links(failed: list[tuple[FlaskForm, dict]]) -> list[ErrorLink]:
    """Every error of the failed forms, in the order of their fields, each with the id to link to; the form's own
    errors (key None) link where `ids[None]` says."""
    links = [ErrorLink(str(message), ids.get(None)) for form, ids in failed for message in form.form_errors]
    for form, ids in failed:
        for field in form:
            links.extend(ErrorLink(str(message), field_anchor(field, ids)) for message in field.errors)
    return links


def field_anchor(field, ids: dict) -> str | None:
    """The id of a field on its page: the one the page gave it, its first choice in a list of choices, or None for
    a hidden field (the CSRF token)."""
    if field.type in HIDDEN_TYPES:
        return None
    if field.name in ids:
        return ids[field.name]
    if isinstance(field.widget, ListWidget):
        return next(iter(field)).id
    return field.id


HIDDEN_TYPES = frozenset({"CSRFTokenField", "HiddenField"})
