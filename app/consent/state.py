"""The visitor's choice, kept in a signed first-party cookie (consent id, choices, register version, date)."""

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from flask import current_app, has_request_context, request
from itsdangerous import BadSignature, URLSafeSerializer

from app.consent.register import CONSENT_COOKIE, CONSENT_LIFETIME, VARIANT_COOKIE

COOKIE_LIFETIME = timedelta(seconds=CONSENT_LIFETIME.seconds)  # 180 days: never more than the 6 months declared
SALT = "kinv-consent-cookie"


@dataclass(frozen=True)
class ConsentState:
    """What the cookie says: whose consent, what was chosen, against which register version, when."""

    consent_id: str
    choices: dict[str, bool]
    version: str
    decided_at: datetime
    complete: bool = True  # False: only a Global Privacy Control default, the visitor has not chosen yet
    gpc: bool = False
    recorded: bool = True  # False: a GPC default not yet in the proof table (written when the visitor comes back)

    def accepted(self, category_key: str) -> bool:
        """Whether the category was accepted."""
        return bool(self.choices.get(category_key))

    @property
    def expires_at(self) -> datetime:
        """When the choice lapses and the banner comes back."""
        return self.decided_at + COOKIE_LIFETIME


def serializer() -> URLSafeSerializer:
    """Signs with the app's SECRET_KEY (salted for this cookie only)."""
    return serializer_for(current_app.secret_key)


@lru_cache(maxsize=8)
def serializer_for(secret_key: str | bytes) -> URLSafeSerializer:
    """The cookie's serializer for one key (made once)."""
    return URLSafeSerializer(secret_key, salt=SALT)


def encode(state: ConsentState) -> str:
    """The cookie value for a state."""
    return serializer().dumps({
        "i": state.consent_id, "c": {key: int(value) for key, value in state.choices.items()},
        "v": state.version, "d": int(state.decided_at.timestamp()), "p": int(not state.complete),
        "g": int(state.gpc), **({} if state.recorded else {"u": 1}),
    })


def decode(value: str | None, now: datetime | None = None) -> ConsentState | None:
    """The state in a cookie value, or None when it is missing, forged, malformed or over 6 months old."""
    state = verified_state(current_app.secret_key, value) if value else None
    if state is None or (now or datetime.now(UTC)) >= state.expires_at or not state.consent_id:
        return None
    return state


@lru_cache(maxsize=4096)
def verified_state(secret_key: str | bytes, value: str) -> ConsentState | None:
    """The state a cookie value holds once its signature is checked, or None (a visitor's cookie is read once, not
    per page; the caller checks its age)."""
    try:
        data = serializer_for(secret_key).loads(value)
        return ConsentState(
            consent_id=str(data["i"]), choices={str(k): bool(v) for k, v in dict(data["c"]).items()},
            version=str(data["v"]), decided_at=datetime.fromtimestamp(int(data["d"]), UTC),
            complete=not data.get("p"), gpc=bool(data.get("g")), recorded=not data.get("u"),
        )
    except (BadSignature, KeyError, TypeError, ValueError, OverflowError):
        return None


def request_cache() -> dict:
    """Consent values kept for the current request only (in its WSGI environ, never shared between requests)."""
    environ = request._get_current_object().environ
    cache = environ.get("kinv.consent")
    if cache is None:
        cache = environ["kinv.consent"] = {}
    return cache


def read_state() -> ConsentState | None:
    """The state carried by this request's cookie, or the choice just made (cached for the request)."""
    if not has_request_context():
        return None
    cache = request_cache()
    if "state" not in cache:
        cache["state"] = decode(request.cookies.get(CONSENT_COOKIE))
    return cache["state"]


def write_cookie(response, state: ConsentState) -> None:
    """Set the signed consent cookie on a response, valid 6 months, and the page variant cookie beside it; with
    CONSENT_COOKIE_DOMAIN both are the company's sites' (the host-only pair of earlier choices is dropped)."""
    lifetime = math.ceil((state.expires_at - datetime.now(UTC)).total_seconds())  # the variant lapses with the choice
    secure = current_app.config.get("SESSION_COOKIE_SECURE", False)
    domain = current_app.config.get("CONSENT_COOKIE_DOMAIN")
    if domain:
        for name in (CONSENT_COOKIE, VARIANT_COOKIE):
            response.delete_cookie(name, path="/", secure=secure, httponly=True, samesite="Lax")
    response.set_cookie(CONSENT_COOKIE, encode(state), max_age=int(COOKIE_LIFETIME.total_seconds()), path="/",
                        domain=domain, secure=secure, httponly=True, samesite="Lax")
    response.set_cookie(VARIANT_COOKIE, variant_value(state), max_age=max(lifetime, 0), path="/", domain=domain,
                        secure=secure, httponly=True, samesite="Lax")


@dataclass(frozen=True)
class PageVariant:
    """What a page shows of a visitor's choice: the register version, the accepted categories, GPC, whether they
    chose (a GPC default alone is no choice). No identifier, no date: the same for everyone who chose alike."""

    version: str
    accepted: frozenset[str]
    gpc: bool
    complete: bool


VARIANT_FLAGS = {"0": False, "1": True}


def variant_value(state: ConsentState) -> str:
    """The variant cookie's value: `version~accepted.categories~` then 1/0 for GPC and for a complete choice."""
    accepted = ".".join(sorted(key for key, value in state.choices.items() if value)) or "-"
    return f"{state.version}~{accepted}~{int(state.gpc)}{int(state.complete)}"


def parse_variant(value: str | None) -> PageVariant | None:
    """The variant a cookie value names, or None (absent or malformed: the page of a visitor who has not chosen)."""
    parts = value.rsplit("~", 2) if value else []
    if len(parts) != 3 or len(parts[2]) != 2 or not set(parts[2]) <= set(VARIANT_FLAGS):
        return None
    version, accepted, flags = parts
    keys = frozenset() if accepted == "-" else frozenset(accepted.split("."))
    return PageVariant(version, keys, VARIANT_FLAGS[flags[0]], VARIANT_FLAGS[flags[1]])


def page_variant() -> PageVariant | None:
    """The variant this request's page is made for: its variant cookie's, or the choice made in this request."""
    if not has_request_context():
        return None
    cache = request_cache()
    if "variant" not in cache:
        made = cache.get("made")
        cache["variant"] = parse_variant(variant_value(made) if made else request.cookies.get(VARIANT_COOKIE))
    return cache["variant"]
