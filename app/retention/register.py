"""The retention register: for each kind of data, its period, the event it counts from, the action taken at the
end and the sentence of the policy it keeps. It drives `flask retention run`, the back-office page
« Conservation des données » and the retention lines of the access package's README.

Features declare their rules beside their models (as they declare their data map kinds) and `create_app`
registers them; a test fails when a table holding personal data has no rule.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l


class Action(StrEnum):
    """What happens to the data when its period ends."""

    DELETE = "delete"
    ANONYMISE = "anonymise"
    CLEAR_BODY = "clear_body"
    KEEP = "keep"
    ASK = "ask"  # re-contact the person before the period ends (§8)
    CLOSE = "close"  # close an unconfirmed request


ACTION_LABELS = {
    Action.DELETE: _l("Suppression"),
    Action.ANONYMISE: _l("Anonymisation"),
    Action.CLEAR_BODY: _l("Contenu effacé, métadonnées gardées"),
    Action.KEEP: _l("Conservation"),
    Action.ASK: _l("Demande de renouvellement du consentement"),
    Action.CLOSE: _l("Clôture"),
}

# Sentences of the policy (content/policy/v1/fr.txt, verbatim: a test checks each one is in the text).
P1_ACTIVE_DATABASE = ("vos données sont automatiquement supprimées de notre base de données active dans un délai de "
                      "1 mois et nos sauvegardes dans un délai de 3 mois supplémentaires")
P4_OPT_OUT_LIST = "relatives à l’exercice de vos droits (tenue d’une liste d’opt-out) (Obligation légale)"
P6_STAFF_ACCESS = ("un accès limité aux données par le personnel des services habilités à y accéder en raison de leurs "
                   "fonctions")
P8_NECESSARY = ("Nous veillons à conserver vos données personnelles pendant une durée qui n’excède pas la durée "
                "nécessaire aux finalités exposées dans la présente politique de respect de la vie privée ou "
                "conformément à ce qui est prévu par la loi applicable.")
P8_PROSPECTS = ("En règle générale, les données prospects / clients sont conservées, sauf opposition ou demande de "
                "suppression de votre part, pendant un délai de trois ans à compter de leur collecte ou du dernier "
                "contact ou de la fin de la relation commerciale.")
P8_RECONTACT = ("Au terme de ce délai de trois ans, nous sommes susceptibles de reprendre contact avec vous afin de "
                "savoir si vous souhaitez continuer à recevoir des sollicitations commerciales.")
P8_NO_ANSWER = ("En l'absence de réponse positive et explicite de votre part, les données vous concernant seront "
                "supprimées ou archivées conformément aux dispositions en vigueur.")
P8_PROOF = ("Les données permettant d'établir la preuve d'un droit ou d'un contrat, ou conservées au titre du respect "
            "d'une obligation légale sont archivées conformément aux dispositions en vigueur.")


@dataclass(frozen=True)
class Outcome:
    """What a rule found and did: rows matched, rows acted on."""

    matched: int
    acted: int


@dataclass(frozen=True)
class Rule:
    """One retention rule: what data, how long from when, what then, and which sentence of the policy it keeps."""

    key: str
    tables: tuple[str, ...]
    data: str  # what is kept, in French (lazy)
    period: timedelta | None  # None: kept as long as the reason holds
    period_label: str
    counts_from: str
    action: Action
    policy: tuple[str, ...]
    apply: Callable[[datetime], Outcome] | None = field(default=None, compare=False)  # None: nothing to run

    @property
    def runs(self) -> bool:
        """Whether `flask retention run` has something to do for this rule."""
        return self.apply is not None

    def cutoff(self, now: datetime) -> datetime:
        """The moment before which the counted event makes data due."""
        if self.period is None:
            raise ValueError(f"rule {self.key} has no period")
        return now - self.period


REGISTER = "kinv.retention_rules"  # in app.extensions, filled by create_app


def register(app: Flask, *rules: Rule) -> None:
    """Add rules to the app's register (create_app registers each feature's), in the order they run."""
    known = app.extensions.setdefault(REGISTER, {})
    for rule in rules:
        known[rule.key] = rule


def all_rules() -> list[Rule]:
    """The current app's rules, in the order they run."""
    return list(current_app.extensions.get(REGISTER, {}).values())


def rules_for_tables(tables: set[str]) -> list[Rule]:
    """The rules about any of these tables, in register order (the access package's README quotes them)."""
    return [rule for rule in all_rules() if tables & set(rule.tables)]


def covered_tables() -> set[str]:
    """Every table some rule covers."""
    return {table for rule in all_rules() for table in rule.tables}


BACKUPS = timedelta(days=90)

# Rules with no code of their own: kept for good, or enforced by another command.
RULES = (
    Rule("liste_opposition", ("suppressions",), _l("Liste d’opposition (empreintes HMAC des adresses et numéros)"),
         None, _l("tant que l’opposition vaut"), _l("l’opposition ou la limitation"), Action.KEEP,
         (P4_OPT_OUT_LIST,)),
    Rule("comptes_equipe", ("staff_users", "staff_recovery_codes"),
         _l("Comptes de l’équipe (adresse, mot de passe haché, rôle, codes de secours hachés)"),
         None, _l("tant que le compte existe"), _l("la création du compte"), Action.KEEP, (P6_STAFF_ACCESS,)),
    Rule("sauvegardes", (), _l("Sauvegardes chiffrées de la base (flask backup prune)"), BACKUPS, _l("90 jours"),
         _l("la sauvegarde"), Action.DELETE, (P1_ACTIVE_DATABASE,)),
)
