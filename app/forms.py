"""The base classes of every form: WTForms' own messages in the page's language; public forms without a CSRF token."""

from functools import cache

from babel.support import Translations
from flask import current_app
from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms.i18n import messages_path


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
