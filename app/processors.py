"""The processors acting on our behalf: the one list the data map and the cookie register name them from.

Each entry says where the processor works; one outside the European Economic Area carries the transfer it makes and
what protects it, and every kind of data that uses it must declare that transfer (`undeclared_transfers`).
The mail provider and the host are named by settings (MAIL_PROVIDER, HOSTING_PROVIDER); the captcha is the one
CAPTCHA_PROVIDER puts in use.
"""

from dataclasses import dataclass, replace

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

DPF = _l("Cadre de protection des données UE–États-Unis (Data Privacy Framework) et clauses contractuelles types de "
         "la Commission européenne.")
SCC = _l("Clauses contractuelles types de la Commission européenne.")


@dataclass(frozen=True)
class Processor:
    """A processor: who it is, what it does for us, where, and (outside the EEA) its transfer and safeguard."""

    key: str
    name: str
    role: str
    transfer: str = ""  # empty: the data stay in the European Economic Area
    safeguard: str = ""
    setting: str = ""  # the setting that names it, when the name depends on the deployment

    @property
    def outside_eea(self) -> bool:
        """Whether the processor may process the data outside the European Economic Area."""
        return bool(str(self.transfer))

    def __str__(self) -> str:
        return f"{self.name} ({self.role})"


GOOGLE = Processor("google", "Google Ireland Limited", _l("services Google"), _l(
    "Google Ireland Limited\u00a0: données pouvant être traitées par Google LLC aux États-Unis."), DPF)
PROCESSORS = {processor.key: processor for processor in (
    Processor("mail", _l("Prestataire d’envoi d’e-mails"), _l("relais SMTP, envoi des e-mails"),
              setting="MAIL_PROVIDER"),
    Processor("host", _l("Hébergeur du site"), _l("hébergement du site et de sa base de données"),
              setting="HOSTING_PROVIDER"),
    Processor("twilio", "Twilio Inc.", _l("envoi et réception des SMS"),
              _l("Twilio Inc.\u00a0: les SMS et les numéros peuvent être traités aux États-Unis."), DPF),
    GOOGLE,
    replace(GOOGLE, key="recaptcha", role=_l("reCAPTCHA, protection du formulaire de contact")),
    replace(GOOGLE, key="google_audiences", role=_l("Customer Match, audiences publicitaires")),
    Processor("meta", "Meta Platforms Ireland Limited", _l("Meta Pixel et audiences personnalisées"),
              _l("Meta Platforms Ireland Limited\u00a0: données pouvant être traitées par Meta Platforms, Inc. aux "
                 "États-Unis."), DPF),
    Processor("awin", "AWIN AG", _l("suivi de l’affiliation (Allemagne)")),
    Processor("hcaptcha", "Intuition Machines, Inc.", _l("hCaptcha, protection du formulaire de contact"),
              _l("Intuition Machines, Inc.\u00a0: données techniques du formulaire traitées aux États-Unis."), SCC),
    Processor("turnstile", "Cloudflare, Inc.", _l("Cloudflare Turnstile, protection du formulaire de contact"),
              _l("Cloudflare, Inc.\u00a0: données techniques du formulaire pouvant être traitées aux États-Unis."),
              DPF),
)}
CAPTCHA = "captcha"  # the captcha provider in use, whichever CAPTCHA_PROVIDER names


def processor(key: str) -> Processor:
    """A processor by key, named as this deployment's settings name it (KeyError for an unknown key)."""
    if key == CAPTCHA:
        key = current_app.config.get("CAPTCHA_PROVIDER") or "recaptcha"
    found = PROCESSORS[key]
    configured = current_app.config.get(found.setting) if found.setting else None
    return replace(found, name=configured) if configured else found


def unnamed() -> list[Processor]:
    """The processors whose name a setting should give and does not."""
    return [found for found in PROCESSORS.values() if found.setting and not current_app.config.get(found.setting)]


def undeclared_transfers(uses: tuple[str, ...], declared: tuple[str, ...]) -> list[str]:
    """The processors used outside the EEA whose transfer is not declared, then the transfers declared for nothing."""
    used = {processor(key).key: processor(key) for key in uses}
    stated = {processor(key).key for key in declared}
    missing = [_("%(processor)s traite les données hors de l’EEE sans que le transfert soit déclaré.",
                 processor=found.name) for key, found in used.items() if found.outside_eea and key not in stated]
    return missing + [_("Transfert déclaré pour %(processor)s, qui n’est pas utilisé ou reste dans l’EEE.",
                        processor=key) for key in sorted(stated) if key not in used or not used[key].outside_eea]
