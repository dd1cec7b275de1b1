"""The contact form's anti-spam check: reCAPTCHA (v2 or v3), hCaptcha or Cloudflare Turnstile, verified server-side."""

import logging
from dataclasses import dataclass
from urllib.parse import urlencode

from flask import current_app
from flask_babel import lazy_gettext as _l
from limits import parse_many

from app.extensions import limiter
from app.headers import allow_sources
from app.personal import keyed_hash, normalise_email

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Provider:
    """One captcha service: its widget, the form field it posts, its siteverify URL and the CSP it needs."""

    name: str
    label: str
    company: str  # who runs the service, named on the contact page as the policy's section 4 does for reCAPTCHA
    privacy_url: str
    terms_url: str
    settings: str  # the prefix of its key settings: <PREFIX>_SITE_KEY and <PREFIX>_SECRET_KEY
    script_url: str
    response_field: str
    verify_url: str
    widget_class: str
    csp: tuple[tuple[str, tuple[str, ...]], ...]


GOOGLE = ("https://www.google.com", "https://www.gstatic.com")
HCAPTCHA = ("https://hcaptcha.com", "https://*.hcaptcha.com")
CLOUDFLARE = ("https://challenges.cloudflare.com",)

PROVIDERS = {
    "recaptcha": Provider(
        name="recaptcha", label="reCAPTCHA", company="Google", privacy_url="https://policies.google.com/privacy",
        terms_url="https://policies.google.com/terms", settings="RECAPTCHA", script_url="https://www.google.com/recaptcha/api.js",
        response_field="g-recaptcha-response", verify_url="https://www.google.com/recaptcha/api/siteverify",
        widget_class="g-recaptcha",
        csp=(("script-src", GOOGLE), ("frame-src", ("https://www.google.com", "https://recaptcha.google.com"))),
    ),
    "hcaptcha": Provider(
        name="hcaptcha", label="hCaptcha", company="Intuition Machines", privacy_url="https://www.hcaptcha.com/privacy",
        terms_url="https://www.hcaptcha.com/terms", settings="HCAPTCHA", script_url="https://js.hcaptcha.com/1/api.js",
        response_field="h-captcha-response", verify_url="https://api.hcaptcha.com/siteverify",
        widget_class="h-captcha",
        csp=(("script-src", HCAPTCHA), ("frame-src", HCAPTCHA), ("style-src", HCAPTCHA), ("connect-src", HCAPTCHA)),
    ),
    "turnstile": Provider(
        name="turnstile", label="Cloudflare Turnstile", company="Cloudflare",
        privacy_url="https://www.cloudflare.com/privacypolicy/",
        terms_url="https://www.cloudflare.com/website-terms/", settings="TURNSTILE",
        script_url="https://challenges.cloudflare.com/turnstile/v0/api.js",
        response_field="cf-turnstile-response", verify_url="https://challenges.cloudflare.com/turnstile/v0/siteverify",
        widget_class="cf-turnstile", csp=(("script-src", CLOUDFLARE), ("frame-src", CLOUDFLARE)),
    ),
}

REASONS = ("ok", "disabled", "missing", "rejected", "hostname", "action", "score", "timeout", "unavailable", "invalid",
           "unchecked", "limited")
# The check could not run: no token (no JavaScript, the provider's script blocked) or siteverify did not answer.
UNANSWERED = frozenset({"missing", "timeout", "unavailable", "invalid"})
# Requests taken without the check, per client network and per address (strict: each still needs its e-mail
# confirmed before anything is done).
UNCHECKED_PER_NETWORK = parse_many("3/hour;10/day")
UNCHECKED_PER_ADDRESS = parse_many("2/day")


@dataclass(frozen=True)
class CaptchaResult:
    """The verdict on one submission: `ok`, and a reason code from REASONS."""

    ok: bool
    reason: str


@dataclass(frozen=True)
class CaptchaWidget:
    """What the `rights/_captcha.html` partial needs (pass it as `captcha`)."""

    provider: Provider
    site_key: str
    version: int
    action: str
    enabled: bool

    @property
    def invisible(self) -> bool:
        """reCAPTCHA v3: no checkbox, a token fetched on submit."""
        return self.provider.name == "recaptcha" and self.version == 3

    def script_src(self, lang: str = "fr") -> str:
        """The provider's script URL, in the page's language (and with the site key for v3)."""
        if self.provider.name == "turnstile":
            return self.provider.script_url
        params = {"render": self.site_key} if self.invisible else {}
        return f"{self.provider.script_url}?{urlencode({**params, 'hl': lang})}"


def current_provider() -> Provider:
    """The provider chosen by CAPTCHA_PROVIDER."""
    name = str(current_app.config.get("CAPTCHA_PROVIDER") or "recaptcha").strip().lower()
    if name not in PROVIDERS:
        raise ValueError(f"CAPTCHA_PROVIDER must be one of {', '.join(PROVIDERS)}, not {name!r}")
    return PROVIDERS[name]


def site_key() -> str:
    """The chosen provider's public key (<PREFIX>_SITE_KEY)."""
    return current_app.config.get(f"{current_provider().settings}_SITE_KEY") or ""


def secret_key() -> str:
    """The chosen provider's secret key (<PREFIX>_SECRET_KEY), sent to siteverify only."""
    return current_app.config.get(f"{current_provider().settings}_SECRET_KEY") or ""


def captcha_enabled() -> bool:
    """Whether both keys are set (without them the check is off, which only development allows)."""
    return bool(site_key() and secret_key())


def is_v3() -> bool:
    """Whether the score-based reCAPTCHA v3 is in use."""
    return current_provider().name == "recaptcha" and int(current_app.config.get("RECAPTCHA_VERSION", 2)) == 3


def widget() -> CaptchaWidget:
    """The settings the template partial renders."""
    config = current_app.config
    return CaptchaWidget(
        provider=current_provider(), site_key=site_key(),
        version=int(config.get("RECAPTCHA_VERSION", 2)), action=config.get("RECAPTCHA_EXPECTED_ACTION", "contact"),
        enabled=captcha_enabled(),
    )


def token_from(form) -> str | None:
    """The token the widget posted (in the provider's response field), or None."""
    token = form.get(current_provider().response_field)
    if not isinstance(token, str) or not token.strip():
        return None
    return token.strip()


def allow_captcha_sources() -> None:
    """Open this response's CSP to the provider's hosts; call it on the contact page only."""
    if captcha_enabled():
        for directive, hosts in current_provider().csp:
            allow_sources(directive, *hosts)


def verify(token: str | None, remote_ip: str | None) -> CaptchaResult:
    """Ask the provider's siteverify whether this token is good; never logs the secret or the token."""
    if not captcha_enabled():
        return CaptchaResult(True, "disabled")
    if not token or not token.strip():
        return refuse("missing")
    payload, reason = call_siteverify(token.strip(), remote_ip)
    if payload is None:
        return refuse(reason)
    return judge(payload)


def call_siteverify(token: str, remote_ip: str | None) -> tuple[dict | None, str]:
    """POST the token to siteverify; the JSON object it answers, or None and the reason for failing."""
    import requests  # with urllib3 and charset_normalizer about 4 MB: loaded by the first check, not by every process

    config = current_app.config
    data = {"secret": secret_key(), "response": token}
    if remote_ip:
        data["remoteip"] = remote_ip
    url = config.get("CAPTCHA_VERIFY_URL") or current_provider().verify_url
    try:
        response = requests.post(url, data=data, timeout=float(config.get("CAPTCHA_TIMEOUT", 5)))
    except requests.Timeout:
        return None, "timeout"
    except requests.RequestException as error:
        log.warning("captcha: siteverify unreachable (%s)", type(error).__name__)
        return None, "unavailable"
    if response.status_code != 200:
        log.warning("captcha: siteverify answered HTTP %s", response.status_code)
        return None, "unavailable"
    try:
        payload = response.json()
    except ValueError:
        return None, "invalid"
    return (payload, "ok") if isinstance(payload, dict) else (None, "invalid")


def judge(payload: dict) -> CaptchaResult:
    """Accept only `success` true, the expected hostname and, for v3, the expected action and a high enough score."""
    config = current_app.config
    if payload.get("success") is not True:
        log.info("captcha: rejected, error codes %s", safe_codes(payload.get("error-codes")))
        return refuse("rejected")
    expected_host = (config.get("CAPTCHA_EXPECTED_HOSTNAME") or "").strip().lower()
    if expected_host and str(payload.get("hostname") or "").strip().lower() != expected_host:
        return refuse("hostname")
    reason = v3_reason(payload) if is_v3() else "ok"
    return CaptchaResult(True, "ok") if reason == "ok" else refuse(reason)


def v3_reason(payload: dict) -> str:
    """reCAPTCHA v3: "action" unless it is the expected one, "score" unless a number at or above the minimum."""
    config = current_app.config
    if payload.get("action") != config.get("RECAPTCHA_EXPECTED_ACTION", "contact"):
        return "action"
    score = payload.get("score")
    if isinstance(score, bool) or not isinstance(score, int | float):
        return "score"
    return "ok" if score >= float(config.get("RECAPTCHA_MIN_SCORE", 0.5)) else "score"


def safe_codes(codes) -> str:
    """The provider's error codes, shortened for the log."""
    if not isinstance(codes, list):
        return "none"
    return ",".join(str(code)[:40] for code in codes[:5]) or "none"


def or_unchecked(result: CaptchaResult, network: str | None, email: str) -> CaptchaResult:
    """A check that could not run lets the request through as « unchecked », within the stricter limits (then
    "limited"); any other verdict stands."""
    if result.ok or result.reason not in UNANSWERED:
        return result
    if not within_unchecked_limits(network, email):
        return refuse("limited")
    log.info("captcha: request taken without the check (%s)", result.reason)
    return CaptchaResult(True, "unchecked")


def within_unchecked_limits(network: str | None, email: str) -> bool:
    """Count one unchecked request against the client's network and the address (keyed), if both have room."""
    if not limiter.enabled:
        return True
    counted = [(item, "unchecked-network", keyed_hash(network or "")) for item in UNCHECKED_PER_NETWORK] + [
        (item, "unchecked-address", keyed_hash(normalise_email(email))) for item in UNCHECKED_PER_ADDRESS]
    try:
        if not all(limiter.limiter.test(item, *keys) for item, *keys in counted):
            return False
        hits = [limiter.limiter.hit(item, *keys) for item, *keys in counted]  # every one counted, none skipped
    # The limiter's storage is down: let the person through (confirmation still needed), as Flask-Limiter does with
    # RATELIMIT_SWALLOW_ERRORS for its own limits.
    except Exception as error:  # noqa: BLE001
        log.warning("captcha: limits unavailable (%s)", type(error).__name__)
        return True
    return all(hits)


def refuse(reason: str) -> CaptchaResult:
    """A failed check, logged by reason only."""
    log.info("captcha: check failed (%s, %s)", current_provider().name, reason)
    return CaptchaResult(False, reason)


RETRY_SOON = _l("Le service de vérification anti-spam (%(provider)s) n’a pas répondu. Réessayez dans un "
                "instant\u00a0; ce que vous avez saisi est conservé.")
FAILURE_MESSAGES = {
    "timeout": RETRY_SOON,
    "unavailable": RETRY_SOON,
    "invalid": _l("Le service de vérification anti-spam (%(provider)s) a renvoyé une réponse illisible. Réessayez "
                  "dans un instant\u00a0; ce que vous avez saisi est conservé."),
    "limited": _l("La vérification anti-spam (%(provider)s) n’a pas pu se faire, et trop de demandes sans "
                  "vérification viennent de votre réseau ou portent sur cette adresse. Réessayez plus tard, ou écrivez-"
                  "nous par e-mail ou par courrier (adresses ci-dessus)\u00a0; ce que vous avez saisi est conservé."),
    "score": _l("La vérification anti-spam (%(provider)s) n’a pas pu confirmer que vous n’êtes pas un robot. "
                "Patientez quelques secondes et renvoyez le formulaire\u00a0; ce que vous avez saisi est conservé."),
}
REDO_MESSAGES = {
    "v3": _l("La vérification anti-spam (%(provider)s) n’a pas abouti. Vérifiez que JavaScript est activé et "
             "renvoyez le formulaire\u00a0; ce que vous avez saisi est conservé."),
    "turnstile": _l("La vérification anti-spam (%(provider)s) n’a pas abouti. Attendez que la vérification affiche "
                    "sa coche de réussite, puis renvoyez le formulaire\u00a0; ce que vous avez saisi est conservé."),
    "checkbox": _l("La vérification anti-spam (%(provider)s) n’a pas abouti. Cochez la case et renvoyez le "
                   "formulaire\u00a0; ce que vous avez saisi est conservé."),
}


def failure_message(result: CaptchaResult) -> str:
    """What to tell the person, in their language; empty when the check passed."""
    if result.ok:
        return ""
    provider = current_provider()
    message = FAILURE_MESSAGES.get(result.reason) or REDO_MESSAGES[redo_kind(provider)]
    return str(message) % {"provider": provider.label}


def redo_kind(provider: Provider) -> str:
    """How the person redoes the check: let reCAPTCHA v3 run, wait for Turnstile, or tick the box."""
    if is_v3():
        return "v3"
    return "turnstile" if provider.name == "turnstile" else "checkbox"
