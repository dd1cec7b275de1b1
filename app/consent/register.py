"""The register of cookies and trackers: the one declaration the banner, the preferences page,
the policy's cookie table, the CSP and the tags are all built from.

Adding a service is one `Service(...)` entry below. Change `version` whenever a category,
a service or a purpose changes: every visitor is then asked again.
"""

import json
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import cached_property

from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l

from app.processors import PROCESSORS

MAX_LIFETIME_MONTHS = 13
MAX_LIFETIME_DAYS = 395
CONSENT_COOKIE = "kinv_consent"
VARIANT_COOKIE = "kinv_page"  # the page a choice shows: what a shared cache keys on (app.consent.state)
# The tag identifiers of K-Inventory's accounts (edit here; they are public in any page source).
GOOGLE_ANALYTICS_ID = "G-K1NV3NT0RY"
GOOGLE_ADS_ID = "AW-1122334455"
META_PIXEL_ID = "1122334455667788"
AWIN_ADVERTISER_ID = "112233"


@dataclass(frozen=True)
class Lifetime:
    """How long a cookie lives: the browser session, or a number of days or months."""

    count: int = 0
    unit: str = "session"

    def in_days(self) -> int:
        """The lifetime in days (a month counts 30.44 days; a browser session counts 0)."""
        return {"session": 0, "day": self.count, "month": round(self.count * 30.44)}[self.unit]

    @property
    def seconds(self) -> int:
        """The lifetime a tag gives the cookie: a month counts 30 days, so it never outlives the months declared."""
        return {"session": 0, "day": self.count, "month": self.count * 30}[self.unit] * 86_400

    @property
    def too_long(self) -> bool:
        """Over the 13 months the CNIL allows for a tracker."""
        limit = {"session": 0, "day": MAX_LIFETIME_DAYS, "month": MAX_LIFETIME_MONTHS}[self.unit]
        return self.count > limit

    def __str__(self) -> str:

        if self.unit == "session":
            return gettext("fin de la session de navigation")
        if self.unit == "day":
            return ngettext("%(num)d jour", "%(num)d jours", self.count)
        return ngettext("%(num)d mois", "%(num)d mois", self.count)


@dataclass(frozen=True)
class Cookie:
    """A cookie (or a family of cookies named by a pattern such as `_ga_*`) a service sets."""

    name: str
    lifetime: Lifetime
    purpose: str
    domain: str = ""  # empty: set on the site's own domain (first party)

    @property
    def is_pattern(self) -> bool:
        """Whether the name is a shell-style pattern."""
        return any(char in self.name for char in "*?[")

    def matches(self, name: str) -> bool:
        """Whether a cookie name belongs to this entry."""
        return fnmatchcase(name, self.name) if self.is_pattern else name == self.name

    @property
    def first_party(self) -> bool:
        """Set on our own domain (so we can expire it), as opposed to the provider's domain."""
        return not self.domain


@dataclass(frozen=True)
class Tag:
    """What the page loads once the category is accepted: an inline snippet, then a script URL.

    `provider_lifetimes` names the cookies whose lifetime the provider fixes and no option of its tag changes,
    with the lifetime its documentation gives; every other cookie of the service has its lifetime set in the snippet.
    """

    src: str | None = None
    snippet: str | None = None
    csp: dict[str, tuple[str, ...]] = field(default_factory=dict)
    google: bool = False  # a Google tag: Google Consent Mode v2 applies, and one gtag.js loads every Google service
    provider_lifetimes: dict[str, Lifetime] = field(default_factory=dict)


@dataclass(frozen=True)
class Service:
    """One provider's service within a category."""

    key: str
    name: str
    provider: str
    purpose: str
    cookies: tuple[Cookie, ...] = ()
    tag: Tag | None = None
    privacy_url: str = ""
    processor: str = ""  # its key in app.processors.PROCESSORS (empty: the site itself)


@dataclass(frozen=True)
class Category:
    """A purpose the visitor accepts or refuses as a whole."""

    key: str
    name: str
    description: str
    legal_basis: str
    services: tuple[Service, ...]
    required: bool = False
    consent_mode: tuple[str, ...] = ()  # the Google Consent Mode signals this category grants
    refused_under_gpc: bool = False  # Global Privacy Control refuses it by default
    summary: str | None = None  # how the banner's sentence names the purpose (« la mesure d’audience »)

    @property
    def purpose_phrase(self) -> str:
        """The purpose as the banner's sentence names it (the name in lower case when no summary is given)."""
        return str(self.summary) if self.summary else str(self.name).lower()

    @property
    def cookies(self) -> tuple[Cookie, ...]:
        """Every cookie of every service of the category."""
        return tuple(cookie for service in self.services for cookie in service.cookies)


@dataclass(frozen=True)
class Register:
    """Every category, in display order, with the version visitors consented to."""

    version: str
    categories: tuple[Category, ...]

    @cached_property
    def optional(self) -> tuple[Category, ...]:
        """The categories that need consent (worked out once: a register never changes)."""
        return tuple(category for category in self.categories if not category.required)

    def category(self, key: str) -> Category | None:
        """A category by key."""
        return next((category for category in self.categories if category.key == key), None)

    @cached_property
    def has_google_tag(self) -> bool:
        """Whether Google Consent Mode must be set up (worked out once)."""
        return any(s.tag and s.tag.google for c in self.categories for s in c.services)

    def problems(self) -> list[str]:
        """What makes the register invalid (an empty list when it is sound)."""
        found = []
        keys = [category.key for category in self.categories]
        if len(set(keys)) != len(keys):
            found.append("duplicate category keys")
        if not any(category.required for category in self.categories):
            found.append("no strictly necessary category")
        for category in self.categories:
            for cookie in category.cookies:
                if cookie.lifetime.too_long:
                    found.append(f"{cookie.name}: lifetime over {MAX_LIFETIME_MONTHS} months")
            for service in category.services:
                if category.required and service.tag:
                    found.append(f"{service.key}: a strictly necessary service injects no tag")
                if service.processor and getattr(PROCESSORS.get(service.processor), "name", None) != service.provider:
                    found.append(f"{service.key}: provider is not processor {service.processor!r} of the list")
        return found


def _google_tag(tag_id: str, lifetime: Lifetime, csp: dict[str, tuple[str, ...]], **provider_lifetimes) -> Tag:
    """The Google tag for one account id: its `config` line gives its first-party cookies the declared lifetime.

    `cookie_expires` is in seconds (Google's default is two years); `cookie_update: false` keeps the expiry counted
    from the cookie's creation instead of pushing it back at every page. gtag.js itself is loaded once per page,
    whatever the number of Google services accepted (see `app.consent.tags.tag_list`).
    """
    settings = json.dumps({"cookie_expires": lifetime.seconds, "cookie_update": False}, separators=(",", ":"))
    return Tag(
        src=f"https://www.googletagmanager.com/gtag/js?id={tag_id}",
        snippet=f"gtag('config','{tag_id}',{settings});",
        csp={"script-src": ("https://www.googletagmanager.com",), **csp},
        google=True,
        provider_lifetimes=provider_lifetimes,
    )


# The lifetimes the site and each tag are configured with, shared by the register's cookies and by what sets them.
CONSENT_LIFETIME = Lifetime(6, "month")  # the visitor's choice, for refusals as for acceptances
GOOGLE_ANALYTICS_LIFETIME = Lifetime(13, "month")  # the CNIL's maximum for audience measurement
GOOGLE_ADS_LIFETIME = Lifetime(90, "day")  # Google's default for the conversion linker's `_gcl_*` cookies
# Fixed by the provider, with no option in its tag, as its documentation states.
IDE_LIFETIME = Lifetime(13, "month")  # Google's `IDE` on doubleclick.net, in the EEA
META_LIFETIME = Lifetime(90, "day")  # Meta's `_fbp` and `_fbc`
AWIN_CLICK_LIFETIME = Lifetime(12, "month")  # Awin's `_aw_m_<advertiser>`: one year
AWIN_JOURNEY_LIFETIME = Lifetime(3, "month")  # Awin's `_aw_j_<advertiser>`
AWIN_INCENTIVE_LIFETIME = Lifetime(30, "day")  # Awin's `_aw_sn_<advertiser>`: its cookie list gives no duration


SITE = "K-Technology & Services"
CONSENT_BASIS = _l("Consentement (article 82 de la loi Informatique et Libertés)")

REGISTER = Register(
    version="2026-11-30",
    categories=(
        Category(
            key="necessary",
            name=_l("Strictement nécessaires"),
            description=_l(
                "Indispensables au fonctionnement du site et à la mémorisation de vos choix. "
                "Ils ne peuvent pas être désactivés et ne servent à aucun suivi."),
            legal_basis=_l("Exemptés de consentement (article 82 de la loi Informatique et Libertés)"),
            required=True,
            services=(
                Service(
                    key="site", name="K-Inventory", provider=SITE,
                    purpose=_l("Sécurité des formulaires et mémorisation de vos choix."),
                    cookies=(
                        Cookie("session", Lifetime(), _l(
                            "Session de navigation, seulement après l’envoi d’un formulaire ou dans l’espace du "
                            "personnel\u00a0: message de confirmation, jeton anti-falsification (CSRF).")),
                        Cookie(CONSENT_COOKIE, CONSENT_LIFETIME, _l(
                            "Vos choix en matière de cookies, signés (identifiant de consentement, "
                            "choix, version du registre, date).")),
                        Cookie(VARIANT_COOKIE, CONSENT_LIFETIME, _l(
                            "La version des pages qui correspond à vos choix (catégories acceptées, version du "
                            "registre), sans identifiant\u00a0: elle permet de vous servir une page déjà prête.")),
                    ),
                ),
                Service(
                    key="recaptcha", name="Google reCAPTCHA", provider=PROCESSORS["recaptcha"].name,
                    processor="recaptcha",
                    purpose=_l("Protection du formulaire de contact contre les robots (page contact uniquement)."),
                    cookies=(Cookie("_GRECAPTCHA", Lifetime(6, "month"),
                                    _l("Analyse de risque du formulaire de contact."),
                        domain="www.google.com"),),
                    privacy_url="https://policies.google.com/privacy",
                ),
            ),
        ),
        Category(
            key="analytics",
            name=_l("Mesure d’audience"),
            description=_l("Nous aident à savoir quelles pages sont consultées et comment améliorer le site."),
            legal_basis=CONSENT_BASIS,
            summary=_l("la mesure d’audience"),
            consent_mode=("analytics_storage",),
            services=(
                Service(
                    key="google_analytics", name="Google Analytics 4", provider=PROCESSORS["google"].name,
                    processor="google",
                    purpose=_l("Statistiques de fréquentation agrégées."),
                    cookies=(
                        Cookie("_ga", GOOGLE_ANALYTICS_LIFETIME, _l("Distingue les visiteurs.")),
                        Cookie("_ga_*", GOOGLE_ANALYTICS_LIFETIME, _l("Conserve l’état de la visite.")),
                    ),
                    tag=_google_tag(GOOGLE_ANALYTICS_ID, GOOGLE_ANALYTICS_LIFETIME, {
                        "connect-src": ("https://*.google-analytics.com", "https://*.analytics.google.com",
                                        "https://www.googletagmanager.com"),
                        "img-src": ("https://*.google-analytics.com", "https://www.googletagmanager.com"),
                    }),
                    privacy_url="https://policies.google.com/privacy",
                ),
            ),
        ),
        Category(
            key="advertising",
            name=_l("Publicité ciblée et réseaux sociaux"),
            description=_l(
                "Nous permettent de vous montrer des publicités personnalisées sur d’autres sites et sur les "
                "réseaux sociaux (reciblage) et d’en mesurer l’efficacité."),
            legal_basis=CONSENT_BASIS,
            summary=_l("la publicité ciblée (y compris sur les réseaux sociaux)"),
            consent_mode=("ad_storage", "ad_user_data", "ad_personalization"),
            refused_under_gpc=True,
            services=(
                Service(
                    key="google_ads", name="Google Ads (reciblage)", provider=PROCESSORS["google"].name,
                    processor="google",
                    purpose=_l("Reciblage publicitaire et mesure des conversions."),
                    cookies=(
                        Cookie("_gcl_au", GOOGLE_ADS_LIFETIME, _l("Mesure des conversions publicitaires.")),
                        Cookie("_gcl_*", GOOGLE_ADS_LIFETIME, _l("Clics publicitaires.")),
                        Cookie("IDE", IDE_LIFETIME, _l("Reciblage publicitaire."),
                               domain=".doubleclick.net"),
                    ),
                    tag=_google_tag(GOOGLE_ADS_ID, GOOGLE_ADS_LIFETIME, {
                        "connect-src": ("https://googleads.g.doubleclick.net", "https://www.google.com"),
                        "img-src": ("https://googleads.g.doubleclick.net", "https://www.google.com",
                                    "https://www.google.fr"),
                        "frame-src": ("https://td.doubleclick.net",),
                    }, IDE=IDE_LIFETIME),
                    privacy_url="https://policies.google.com/privacy",
                ),
                Service(
                    key="meta_pixel", name="Meta Pixel (Facebook, Instagram)",
                    provider=PROCESSORS["meta"].name, processor="meta",
                    purpose=_l("Publicités personnalisées sur Facebook et Instagram (reciblage)."),
                    cookies=(
                        Cookie("_fbp", META_LIFETIME, _l("Identifie le navigateur pour le reciblage.")),
                        Cookie("_fbc", META_LIFETIME, _l("Clic sur une publicité Meta.")),
                    ),
                    tag=Tag(
                        snippet=("window.fbq=window.fbq||function(){(fbq.q=fbq.q||[]).push(arguments)};"
                                 f"fbq('init','{META_PIXEL_ID}');fbq('track','PageView');"),
                        src="https://connect.facebook.net/en_US/fbevents.js",
                        csp={"script-src": ("https://connect.facebook.net",),
                             "img-src": ("https://www.facebook.com",),
                             "connect-src": ("https://www.facebook.com", "https://connect.facebook.net")},
                        provider_lifetimes={"_fbp": META_LIFETIME, "_fbc": META_LIFETIME},
                    ),
                    privacy_url="https://www.facebook.com/privacy/policy/",
                ),
            ),
        ),
        Category(
            key="affiliation",
            name=_l("Affiliation"),
            description=_l(
                "Nous permettent de savoir quel site partenaire vous a conduit chez nous, pour rémunérer nos "
                "partenaires et mesurer nos campagnes d’affiliation."),
            legal_basis=CONSENT_BASIS,
            summary=_l("l’affiliation"),
            services=(
                Service(
                    key="awin", name="Awin", provider=PROCESSORS["awin"].name, processor="awin",
                    purpose=_l("Attribution des ventes aux sites partenaires."),
                    cookies=(
                        Cookie("_aw_m_*", AWIN_CLICK_LIFETIME, _l("Mémorise le partenaire d’origine.")),
                        Cookie("_aw_sn_*", AWIN_INCENTIVE_LIFETIME, _l("Mémorise le clic affilié.")),
                        Cookie("_aw_j_*", AWIN_JOURNEY_LIFETIME,
                               _l("Mémorise le parcours de visite pour attribuer la vente.")),
                    ),
                    tag=Tag(
                        src=f"https://www.dwin1.com/{AWIN_ADVERTISER_ID}.js",
                        csp={"script-src": ("https://www.dwin1.com",),
                             "img-src": ("https://www.awin1.com",),
                             "connect-src": ("https://www.awin1.com",)},
                        provider_lifetimes={"_aw_m_*": AWIN_CLICK_LIFETIME, "_aw_j_*": AWIN_JOURNEY_LIFETIME,
                                            "_aw_sn_*": AWIN_INCENTIVE_LIFETIME},
                    ),
                    privacy_url="https://www.awin.com/fr/politique-de-confidentialite",
                ),
            ),
        ),
    ),
)
