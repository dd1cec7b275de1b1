"""Input that never reaches a view: NUL characters, unnamed multipart parts, numbers too big for a database column;
Flask-WTF's CSRF tokens on staff forms (public forms rely on app.crossorigin: they carry nothing of the visitor)."""

from itertools import chain

from flask import Flask, Request, current_app, request
from werkzeug.exceptions import BadRequest
from werkzeug.formparser import FormDataParser
from werkzeug.routing import IntegerConverter

from app.extensions import csrf

SAFE_METHODS = frozenset({"GET", "HEAD"})
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


class BoundedIntConverter(IntegerConverter):
    """`<int:…>` in a URL, at most what a database integer column holds: a bigger number is a 404, not a 500."""

    def __init__(self, map, *args, **kwargs) -> None:  # noqa: A002 (Werkzeug's own parameter name)
        """Werkzeug's integer converter with a default maximum of 2**31 - 1."""
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


class NamedPartsOnly(FormDataParser):
    """Werkzeug's form parser, leaving out multipart parts without a name: no form field reads them, and a None key
    would reach code that expects a field's name."""

    def parse(self, *args, **kwargs):
        """The parsed form and files, unnamed parts left out."""
        stream, form, files = super().parse(*args, **kwargs)
        for unnamed in files.getlist(None):
            unnamed.close()  # its temporary file: the request closes only the files it keeps
        return stream, named(form, self.cls), named(files, self.cls)


def named(parts, cls):
    """The parts that have a name."""
    return cls((key, value) for key, value in parts.items(multi=True) if key is not None)


class SiteRequest(Request):
    """Flask's request, with forms parsed by NamedPartsOnly."""

    form_data_parser_class = NamedPartsOnly


class NulCharacter(BadRequest):
    """A NUL character in the address or a form field: no database stores it, no person types it."""


def refuse_nul_characters() -> None:
    """Answer 400 before any view sees a NUL character (PostgreSQL would refuse it with a 500)."""
    asked = request._get_current_object()
    query = asked.query_string
    if "\x00" in asked.path or b"%00" in query or b"\x00" in query:  # the only ways a NUL reaches the arguments
        raise NulCharacter()
    if asked.method in SAFE_METHODS or asked.mimetype not in FORM_TYPES:
        return  # a GET's form is never read; a JSON body is left unread for its view (and its own size limit)
    values = chain(asked.form.keys(), *asked.form.listvalues())
    if any("\x00" in value for value in values):
        raise NulCharacter()


def check_staff_csrf() -> None:
    """Flask-WTF's CSRF check on a staff page's requests that can change something (exempt views apart)."""
    config = current_app.config
    if (config["WTF_CSRF_ENABLED"] and request.method in config["WTF_CSRF_METHODS"]
            and request.blueprint in current_app.extensions[STAFF]):
        csrf.protect(apply_exemptions=True)


STAFF = "kinv.staff_blueprints"


def init_app(app: Flask, staff_blueprints: tuple[str, ...]) -> None:
    """Refuse NUL characters before any view runs; check CSRF tokens on the staff blueprints' forms."""
    app.extensions[STAFF] = frozenset(staff_blueprints)
    app.request_class = SiteRequest
    app.before_request(refuse_nul_characters)
    app.before_request(check_staff_csrf)
