"""Language selection (French by default, English under /en/), URLs in pairs, French typography."""

import re

from babel import Locale, support
from flask import request, url_for
from flask_babel import Domain, get_locale

from app.extensions import babel

LANGUAGES = ("fr", "en")
NBSP, NNBSP = "\u00a0", "\u202f"
LOCALES = {code: Locale.parse(code) for code in LANGUAGES}


SOURCE_LOCALE = LOCALES["fr"]  # the language the messages are written in


class SourcePlurals(support.NullTranslations):
    """The source text's plural rule from Babel's CLDR data, behind every catalogue: French writes « 0 réponse »
    (0 and 1 take the singular) where gettext's own fallback would write « 0 réponses »."""

    def ngettext(self, singular: str, plural: str, num: int) -> str:
        """The singular or the plural, as the source language counts."""
        return singular if SOURCE_LOCALE.plural_form(num) == "one" else plural

    ungettext = ngettext

    def npgettext(self, context: str, singular: str, plural: str, num: int) -> str:
        """The same with a context (untranslated: the context changes nothing)."""
        return self.ngettext(singular, plural, num)

    unpgettext = npgettext


class SourcePluralsDomain(Domain):
    """Flask-Babel's message domain, whose catalogues fall back on the source language's plural rule."""

    def get_translations(self):
        """The page language's catalogue, with SourcePlurals behind it."""
        translations = super().get_translations()
        if getattr(translations, "_fallback", None) is None:
            translations.add_fallback(SourcePlurals())
        return translations


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


def french_typography(text: str) -> str:
    """Non-breaking spaces before « : ; ! ? » and inside guillemets, as French typesetting wants."""
    text = re.sub(r"\s+([;!?])", NNBSP + r"\1", text)
    text = re.sub(r"\s+:", NBSP + ":", text)
    text = re.sub(r"«\s*", "«" + NBSP, text)
    return re.sub(r"\s*»", NBSP + "»", text)


def init_app(app) -> None:
    """Keep URLs in the current language and give templates the language switch."""
    app.url_defaults(add_current_lang)
    app.after_request(set_content_language)
    app.jinja_env.globals["alternate_url"] = alternate_url
    babel.domain_instance = SourcePluralsDomain(domain="messages")  # before the first page: replaces the default


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
