"""Language selection and the `flask translate` commands (one catalogue per feature)."""

import subprocess
import sys
from pathlib import Path

import click
from flask import current_app, request
from flask.cli import AppGroup

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
# Each feature's catalogue and the app/ and app/templates/ folders it is extracted from.
FEATURE_DOMAINS = {"consent": ("consent",), "newsletter": ("newsletter", "suppression"), "rights": ("rights", "admin")}
LANGUAGES = ("fr", "en")


def select_locale() -> str:
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


def domain_sources(domain: str) -> tuple[list[str], list[str]]:
    """Input folders and folders to skip when extracting one catalogue."""
    if domain == "messages":
        return ["app"], [folder for folders in FEATURE_DOMAINS.values() for folder in folders]
    folders = FEATURE_DOMAINS[domain]
    return [f"app/{f}" for f in folders] + [f"app/templates/{f}" for f in folders], []


def pybabel(*args: str) -> None:
    """Run a pybabel command from the project root, failing loudly."""
    subprocess.run([str(Path(sys.executable).parent / "pybabel"), "-q", *args], cwd=ROOT, check=True)


translate = AppGroup("translate", help="Extract, update and compile the translation catalogues.")


def chosen_domains(domain: str | None) -> list[str]:
    """One catalogue when named, else every catalogue the app loads."""
    domains = current_app.config["TRANSLATION_DOMAINS"].split(";")
    if domain and domain not in domains:
        raise click.BadParameter(f"unknown catalogue {domain!r}; choose from {', '.join(domains)}")
    return [domain] if domain else domains


domain_option = click.option("--domain", "-D", "only", help="Only this catalogue.")


@translate.command("extract")
@domain_option
def extract(only: str | None = None) -> None:
    """Extract the strings of each catalogue into translations/<domain>.pot."""
    for domain in chosen_domains(only):
        inputs, ignored = domain_sources(domain)
        existing = [path for path in inputs if (ROOT / path).exists()]
        if not existing:
            continue
        ignore = [f"--ignore-dirs={name}" for name in ignored]
        pybabel("extract", "-F", "babel.cfg", "-k", "_l", "--no-location", "--sort-output",
                *ignore, "-o", f"translations/{domain}.pot", *existing)


@translate.command("update")
@domain_option
def update(only: str | None = None) -> None:
    """Extract, then merge new strings into the English catalogues (French is the source)."""
    extract.callback(only)
    for domain in chosen_domains(only):
        po = TRANSLATIONS / "en" / "LC_MESSAGES" / f"{domain}.po"
        if not (TRANSLATIONS / f"{domain}.pot").exists():
            continue
        action = "update" if po.exists() else "init"
        pybabel(action, "-i", f"translations/{domain}.pot", "-d", "translations", "-l", "en", "-D", domain)


@translate.command("compile")
@domain_option
def compile_catalogues(only: str | None = None) -> None:
    """Compile every .po file into the .mo files the app reads."""
    for domain in chosen_domains(only):
        if (TRANSLATIONS / "en" / "LC_MESSAGES" / f"{domain}.po").exists():
            pybabel("compile", "-d", "translations", "-D", domain, "--statistics")


def init_app(app) -> None:
    """Keep URLs in the current language and give templates the language switch."""
    app.url_defaults(add_current_lang)
    app.jinja_env.globals["alternate_url"] = alternate_url


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
        from flask_babel import get_locale

        values["lang"] = str(get_locale() or "fr")


def alternate_url(lang: str) -> str:
    """The current page in another language."""
    from flask import url_for

    if request.endpoint in LOCALIZED_ENDPOINTS:
        values = {k: v for k, v in (request.view_args or {}).items() if k != "lang"}
        return url_for(request.endpoint, lang=lang, **values)
    if request.endpoint == "static" or request.endpoint is None:
        return url_for("main.home", lang=lang)
    return f"{request.path}?lang={lang}"
