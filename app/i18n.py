"""Language selection, French typography, and the `flask translate` commands for the one `messages` catalogue."""

import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import click
from babel import Locale
from babel.support import Translations
from flask import current_app, request, url_for
from flask.cli import AppGroup
from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms.i18n import messages_path

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("fr", "en")
CATALOGUE = "translations/messages.pot"
# Keywords beyond pybabel's defaults: lazy_gettext, lazy_pgettext and the N_ marker of messages translated later.
KEYWORDS = ("-k", "_l", "-k", "_lp:1c,2", "-k", "N_")
NBSP, NNBSP = "\u00a0", "\u202f"
LOCALES = {code: Locale.parse(code) for code in LANGUAGES}


def select_locale() -> Locale:
    """The page's language, as one Locale object per language (Flask-Babel would parse the code each request)."""
    return LOCALES[page_language()]


def page_language() -> str:
    """French by default; English under `/en/`, by `?lang=`, or by the browser on pages without a pair."""
    if request.view_args and request.view_args.get("lang") in LANGUAGES:
        return request.view_args["lang"]
    if request.path == "/en" or request.path.startswith("/en/"):
        return "en"
    if request.args.get("lang") in LANGUAGES:
        return request.args["lang"]
    return request.accept_languages.best_match(LANGUAGES, default="fr") if localized_by_browser() else "fr"


def localized_by_browser() -> bool:
    """Pages with no French/English URL pair (token links, back-office) follow the browser."""
    return request.endpoint is not None and request.view_args is not None and "lang" not in request.view_args


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


def french_typography(text: str) -> str:
    """Non-breaking spaces before « : ; ! ? » and inside guillemets, as French typesetting wants."""
    text = re.sub(r"\s+([;!?])", NNBSP + r"\1", text)
    text = re.sub(r"\s+:", NBSP + ":", text)
    text = re.sub(r"«\s*", "«" + NBSP, text)
    return re.sub(r"\s*»", NBSP + "»", text)


def pybabel(*args: str) -> None:
    """Run a pybabel command from the project root, failing loudly."""
    subprocess.run([str(Path(sys.executable).parent / "pybabel"), "-q", *args], cwd=ROOT, check=True)


translate = AppGroup("translate", help="Extract, update and compile the translation catalogue.")


@translate.command("extract")
@click.option("--output", "-o", default=CATALOGUE, show_default=True, help="Where to write the template.")
def extract(output: str = CATALOGUE) -> None:
    """Extract every string of app/ (Python and templates) into the catalogue template."""
    pybabel("extract", "-F", "babel.cfg", *KEYWORDS, "--no-location", "--sort-output", "-w", "120", "-o", output,
            "app")


@translate.command("update")
def update() -> None:
    """Extract, then merge new strings into the English catalogue (French is the source)."""
    extract.callback()
    action = "update" if (ROOT / "translations/en/LC_MESSAGES/messages.po").exists() else "init"
    pybabel(action, "-i", CATALOGUE, "-d", "translations", "-l", "en", "-w", "120")


@translate.command("compile")
def compile_catalogue() -> None:
    """Compile the .po file into the .mo file the app reads."""
    pybabel("compile", "-d", "translations", "--statistics")


def init_app(app) -> None:
    """Keep URLs in the current language and give templates the language switch."""
    app.url_defaults(add_current_lang)
    app.after_request(set_content_language)
    app.jinja_env.globals["alternate_url"] = alternate_url


def set_content_language(response):
    """Say the language of every page in its headers too (`Content-Language`)."""
    if response.mimetype == "text/html" and all(name.lower() != "content-language" for name, _ in response.headers):
        response.headers.add("Content-Language", str(get_locale() or "fr"))
    return response


LOCALIZED_ENDPOINTS: set[str] = set()


def localized_route(bp, rule_fr: str, rule_en: str, **options):
    """Register a view at a French URL and its English twin; the view receives `lang`."""

    def decorator(view):
        endpoint = options.pop("endpoint", view.__name__)
        bp.add_url_rule(rule_fr, endpoint, view, defaults={"lang": "fr"}, **options)
        bp.add_url_rule(rule_en, endpoint, view, defaults={"lang": "en"}, **options)
        LOCALIZED_ENDPOINTS.add(f"{bp.name}.{endpoint}")
        return view

    return decorator


def add_current_lang(endpoint: str, values: dict) -> None:
    """`url_for` of a localized page stays in the current language unless told otherwise."""
    if endpoint in LOCALIZED_ENDPOINTS and "lang" not in values:
        values["lang"] = str(get_locale() or "fr")


def alternate_url(lang: str) -> str:
    """The current page in another language."""
    if request.endpoint in LOCALIZED_ENDPOINTS:
        values = {k: v for k, v in (request.view_args or {}).items() if k != "lang"}
        return url_for(request.endpoint, lang=lang, **values)
    if request.endpoint == "static" or request.endpoint is None:
        return url_for("main.home", lang=lang)
    return f"{request.path}?lang={lang}"
