"""The register's self-checks: contradictions in the data map and the cookie register, processors left unnamed, and
the places where the policy in force and the software say different things, shown to the dpo instead of hidden."""

import re
import unicodedata
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _

from app.consent.services import current_register
from app.datamap import map_problems
from app.policy.services import current_version
from app.processors import unnamed
from app.rights.deadlines import MAX_EXTENSION_MONTHS

ONE_MONTH_AT_MOST = "en tout état de cause dans un délai d'un mois"


@dataclass(frozen=True)
class Disagreement:
    """One thing the dpo should settle: what it is about, what one side says, what the other does."""

    subject: str
    says: str
    does: str


def flat(text: str) -> str:
    """Text compared loosely: one kind of apostrophe and of space, lower case."""
    text = unicodedata.normalize("NFKC", text).replace("\u2019", "'").lower()
    return re.sub(r"\s+", " ", text)


def contradictions() -> list[Disagreement]:
    """What the data map and the cookie register contradict in themselves."""
    found = [*map_problems(), *current_register().problems()]
    return [Disagreement(_("Registre"), problem, _("Corriger la cartographie ou le registre des cookies.")) for problem
            in found]


def unnamed_processors() -> list[Disagreement]:
    """Processors the register names generically because their setting is empty."""
    return [Disagreement(_("Sous-traitant non nommé"), str(found.name),
                         _("Renseigner le réglage %(setting)s.", setting=found.setting)) for found in unnamed()]


def deadline_disagreement() -> list[Disagreement]:
    """The policy promises an answer within one month at the latest, the back-office can extend it."""
    version = current_version()
    if not version or ONE_MONTH_AT_MOST not in flat(version.text_fr) or not MAX_EXTENSION_MONTHS:
        return []
    return [Disagreement(_("Délai de réponse aux demandes"),
                         _("La politique (version %(number)d) promet une réponse « en tout état de cause dans un "
                           "délai d’un mois ».", number=version.number),
                         _("Le back-office permet de prolonger ce délai de %(months)d mois (article 12.3 du RGPD).",
                           months=MAX_EXTENSION_MONTHS))]


def captcha_disagreement() -> list[Disagreement]:
    """The captcha in use is not the one the cookie register declares."""
    in_use = current_app.config.get("CAPTCHA_PROVIDER") or "recaptcha"
    declared = {service.processor for category in current_register().categories for service in category.services}
    if in_use in declared or in_use not in ("recaptcha", "hcaptcha", "turnstile"):
        return []
    return [Disagreement(_("Captcha du formulaire de contact"),
                         _("Le registre des cookies ne déclare pas le captcha en service."),
                         _("CAPTCHA_PROVIDER vaut %(provider)s.", provider=in_use))]


def disagreements() -> list[Disagreement]:
    """Everything the dpo should settle, contradictions first."""
    return [*contradictions(), *unnamed_processors(), *deadline_disagreement(), *captcha_disagreement()]
