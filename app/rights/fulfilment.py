"""Staff actions on a request: each checks the request's state and the role, logs, and tells the requester."""

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from flask_babel import lazy_gettext as _l

from app.auth.models import Role
from app.connectors import services as connectors
from app.database import utcnow
from app.datamap import erase_person
from app.extensions import db
from app.newsletter.services import record_staff_opt_out
from app.rights import models as m
from app.rights import services
from app.rights.deadlines import MAX_EXTENSION_MONTHS, extended_date
from app.rights.labels import N_
from app.rights.package import build_zip
from app.rights.rectification import rectify_person
from app.suppression.models import Channel, Reason
from app.suppression.services import lift, suppress
from app.tokens import RIGHTS_DOWNLOAD, sign
from app.urls import site_url


class Staff(Protocol):
    """Whoever acts: a staff account with an e-mail address and a role."""

    email: str
    role: str


class ActionRefused(Exception):
    """An action the request's state or the staff member's role does not allow; the message says why."""


class Action(StrEnum):
    """What staff can do on a request (the value is the last part of the action's URL)."""

    START = "demarrer"
    PACKAGE = "dossier"
    OPT_OUT = "opposition"
    RESTRICT = "limitation"
    LIFT_RESTRICTION = "lever-limitation"
    DIRECTIVES = "directives"
    ERASE = "effacer"
    RECTIFY = "rectifier"
    ANSWER = "repondre"
    EXTEND = "prolonger"
    REFUSE = "refuser"
    OVERRIDE_SYSTEMS = "passer-outre"
    NOTE = "note"


@dataclass(frozen=True)
class Rule:
    """Where an action is allowed: the request types (None: every type), the statuses, the roles, and whether the
    requester must have proved the address first (data is only handed over or changed then)."""

    kinds: frozenset[str] | None
    statuses: frozenset[str]
    roles: frozenset[str] = frozenset(Role)
    confirmed: bool = False


OPEN = frozenset(m.OPEN_STATUSES)
VERIFIED = frozenset({m.Status.CONFIRMED, m.Status.IN_PROGRESS, m.Status.EXTENDED})  # once the address is proved
NOT_EXTENDED = OPEN - {m.Status.EXTENDED}
DPO = frozenset({Role.DPO})
# The one table of what staff may do: action × request type × status × role. Services check it before acting
# (ActionRefused, a 409 page, nothing changed) and the request page offers exactly what it allows.
RULES = {
    Action.PACKAGE: Rule(frozenset({m.Kind.ACCESS, m.Kind.PORTABILITY}), VERIFIED, confirmed=True),
    Action.OPT_OUT: Rule(m.OPT_OUT_KINDS, VERIFIED,
                         confirmed=True),
    Action.RESTRICT: Rule(frozenset({m.Kind.RESTRICTION}), VERIFIED, confirmed=True),
    Action.LIFT_RESTRICTION: Rule(frozenset({m.Kind.RESTRICTION}), VERIFIED, confirmed=True),
    Action.DIRECTIVES: Rule(frozenset({m.Kind.POST_MORTEM}), VERIFIED, confirmed=True),
    Action.ERASE: Rule(frozenset({m.Kind.ERASURE}), VERIFIED, DPO, confirmed=True),
    Action.RECTIFY: Rule(frozenset({m.Kind.RECTIFICATION}), VERIFIED, confirmed=True),
    Action.ANSWER: Rule(None, OPEN),
    Action.EXTEND: Rule(None, NOT_EXTENDED),
    Action.REFUSE: Rule(None, OPEN, DPO),
    Action.NOTE: Rule(None, frozenset(m.Status)),
    Action.START: Rule(None, frozenset({m.Status.CONFIRMED}), confirmed=True),
    Action.OVERRIDE_SYSTEMS: Rule(None, OPEN, DPO),
}


def refusal(request: m.RightsRequest, staff: Staff, action: Action) -> str | None:
    """Why the table does not allow this action here (in French), or None when it does."""
    rule = RULES[action]
    if rule.kinds is not None and request.kind not in rule.kinds:
        return _l("Cette action ne s’applique pas à ce type de demande.")
    if staff.role not in rule.roles:
        return _l("Seul le délégué à la protection des données (rôle dpo) peut faire cela.")
    if not request.is_open and request.status not in rule.statuses:
        return _l("Cette demande est close.")
    unconfirmed = request.status == m.Status.UNCONFIRMED and request.status not in rule.statuses
    if unconfirmed or (rule.confirmed and request.confirmed_at is None):
        return _l("Le demandeur n’a pas encore confirmé son adresse e-mail\u00a0: son identité n’est pas "
                  "vérifiée.")
    return state_refusal(request, action) if request.status not in rule.statuses else connected_refusal(request, action)


def state_refusal(request: m.RightsRequest, action: Action) -> str:
    """Why an open request's status does not allow the action."""
    if action == Action.START:
        return _l("Le traitement de cette demande a déjà commencé.")
    return _l("Le délai a déjà été prolongé.")


def connected_refusal(request: m.RightsRequest, action: Action) -> str | None:
    """Overriding the connected systems only while one of them has not answered."""
    if action == Action.OVERRIDE_SYSTEMS and (request.id is None or not connectors.unanswered(request.id)):
        return _l("Tous les systèmes connectés ont répondu.")
    return None


def fits(request: m.RightsRequest, staff: Staff, action: Action) -> bool:
    """Whether the table allows the action on this request's type and status for this role."""
    return refusal(request, staff, action) is None


def offered_actions(request: m.RightsRequest, staff: Staff) -> set[Action]:
    """The actions the request page offers this staff member: exactly those the table allows."""
    return {action for action in Action if fits(request, staff, action)}


def require_fit(request: m.RightsRequest, staff: Staff, action: Action) -> None:
    """ActionRefused (a 409 page) for anything the table does not allow, whatever the form posted."""
    reason = refusal(request, staff, action)
    if reason is not None:
        raise ActionRefused(reason)


def start(request: m.RightsRequest) -> None:
    """The first action moves a confirmed request to « in progress » and asks every connected system concerned."""
    if request.status == m.Status.CONFIRMED:
        request.status = m.Status.IN_PROGRESS
        db.session.flush()
        connectors.fan_out(connectors.Subject(request.id, request.reference, request.kind, request.email,
                                              request.phone, request.deadline))


def require_systems_answered(request: m.RightsRequest) -> None:
    """A request is not closed while a connected system has not answered, unless the dpo overrode it."""
    waiting = connectors.unanswered(request.id)
    overridden = any(event.action == "systems_overridden" for event in request.events)
    if waiting and not overridden:
        names = ", ".join(call.system.name for call in waiting)
        raise ActionRefused(_l("Des systèmes connectés n’ont pas encore répondu (%(names)s)\u00a0: attendez leur "
                               "réponse, ou le délégué à la protection des données peut passer outre en donnant "
                               "un motif.", names=names))


def override_systems(request: m.RightsRequest, staff: Staff, reason: str) -> None:
    """The dpo lets the request close without the answer of every connected system; the reason is logged."""
    require_fit(request, staff, Action.OVERRIDE_SYSTEMS)
    waiting = [call.system.name for call in connectors.unanswered(request.id)]
    services.log(request, "systems_overridden", staff.email, systems=waiting, reason=reason)
    db.session.commit()


def start_fulfilling(request: m.RightsRequest, staff: Staff) -> None:
    """Staff take the request up: it is in progress, and every connected system concerned is asked."""
    require_fit(request, staff, Action.START)
    start(request)
    services.log(request, "started", staff.email, public=True)
    db.session.commit()


def add_note(request: m.RightsRequest, staff: Staff, text: str) -> None:
    """An internal note on the timeline."""
    require_fit(request, staff, Action.NOTE)
    services.log(request, "note", staff.email, text=text)
    db.session.commit()


def send_data_package(request: m.RightsRequest, staff: Staff) -> m.DataPackage:
    """Build the ZIP of everything held on the person (connected systems' exports included) and mail a link."""
    require_fit(request, staff, Action.PACKAGE)
    start(request)
    require_systems_answered(request)
    package = m.DataPackage(
        request=request, content=build_zip(services.person_of(request), request.reference,
                                           connectors.exports_for(request.id)),
        filename=f"{request.reference}-donnees.zip", expires_at=utcnow() + RIGHTS_DOWNLOAD.max_age)
    db.session.add(package)
    db.session.flush()
    url = site_url("rights.download", token=sign(RIGHTS_DOWNLOAD, package.public_id))
    services.log(request, "package_built", staff.email, public=True, size=len(package.content))
    connectors.forget_exports(request.id)
    services.mail_requester(request, N_("Vos données personnelles (demande %(reference)s)"), "package",
                            download_url=url, days=RIGHTS_DOWNLOAD.max_age.days)
    db.session.commit()
    return package


def erase(request: m.RightsRequest, staff: Staff) -> dict[str, int]:
    """Erase every record of the person through the data map; the opt-out list and this request stay."""
    require_fit(request, staff, Action.ERASE)
    start(request)
    counts = erase_person(services.person_of(request))
    services.log(request, "erased", staff.email, public=True, counts=counts)
    db.session.commit()
    return counts


def rectify(request: m.RightsRequest, staff: Staff, changes: dict[str, str]) -> list[dict]:
    """Apply corrections (name, e-mail, phone) everywhere they are held; before and after go in the log."""
    require_fit(request, staff, Action.RECTIFY)
    start(request)
    applied = rectify_person(request, changes)
    if not applied:
        raise ActionRefused(_l("Aucune modification\u00a0: les nouvelles valeurs sont identiques aux anciennes."))
    services.log(request, "rectified", staff.email, public=True, changes=applied)
    db.session.commit()
    return applied


def opt_out_everywhere(request: m.RightsRequest, staff: Staff) -> None:
    """Objection, consent withdrawal, unsubscribe: off every list and channel, on the opt-out list."""
    require_fit(request, staff, Action.OPT_OUT)
    start(request)
    channels = [Channel.EMAIL] + ([Channel.SMS, Channel.CALL] if request.phone else []) + (
        [Channel.POST] if request.postal_address else [])
    services.log(request, "opted_out", staff.email, public=True, channels=channels)
    record_staff_opt_out(email=request.email, phone=request.phone)
    if request.phone:
        suppress(Channel.CALL, phone=request.phone, source="rights_request")
    if request.postal_address:
        suppress(Channel.POST, address=request.postal_address, source="rights_request")
    db.session.commit()


def restrict(request: m.RightsRequest, staff: Staff) -> None:
    """Restriction: no marketing send and no re-contact on any channel until staff lift it."""
    require_fit(request, staff, Action.RESTRICT)
    start(request)
    for channel, identifier in restriction_targets(request):
        suppress(channel, **identifier, source="rights_request", reason=Reason.RESTRICTION)
    services.log(request, "restricted", staff.email, public=True)
    db.session.commit()


def lift_restriction(request: m.RightsRequest, staff: Staff) -> None:
    """End a restriction (the person asked, or the reason for it is settled)."""
    require_fit(request, staff, Action.LIFT_RESTRICTION)
    for channel, identifier in restriction_targets(request):
        lift(channel, **identifier, reason=Reason.RESTRICTION)
    services.log(request, "restriction_lifted", staff.email, public=True)
    db.session.commit()


def restriction_targets(request: m.RightsRequest) -> list[tuple[str, dict]]:
    """The channels and identifiers a restriction covers."""
    targets = [(Channel.EMAIL, {"email": request.email})]
    if request.phone:
        targets.append((Channel.SMS, {"phone": request.phone}))
    return targets


def record_directives(request: m.RightsRequest, staff: Staff) -> m.PostMortemDirective:
    """Store the post-mortem directives with the designated person; they stay revocable."""
    require_fit(request, staff, Action.DIRECTIVES)
    if not (request.designated_name and request.designated_contact):
        raise ActionRefused(_l("La demande n’indique pas la personne désignée et son contact."))
    start(request)
    directive = m.PostMortemDirective(
        request=request, email=request.email, instructions=request.message, recorded_by=staff.email,
        designated_name=request.designated_name, designated_contact=request.designated_contact)
    db.session.add(directive)
    services.log(request, "directives_recorded", staff.email, public=True)
    db.session.commit()
    return directive


def revoke_directives(directive: m.PostMortemDirective, staff: Staff) -> None:
    """Revoke directives (the person changed their mind); the row stays as the record of both steps."""
    if directive.revoked_at is None:
        directive.revoked_at = utcnow()
        if directive.request is not None:
            services.log(directive.request, "directives_revoked", staff.email, public=True)
        db.session.commit()


def extend(request: m.RightsRequest, staff: Staff, months: int, reason: str) -> None:
    """Extend by 1 or 2 more months with a reason, only within the first month; the requester is told."""
    require_fit(request, staff, Action.EXTEND)
    if services.today() > request.due_on:
        raise ActionRefused(_l("Le premier mois est écoulé\u00a0: il est trop tard pour prolonger le délai."))
    if not 1 <= months <= MAX_EXTENSION_MONTHS:
        raise ActionRefused(_l("Une prolongation est d’un ou deux mois."))
    request.extended_to = extended_date(request.received_at, months)
    request.extension_reason, request.status = reason, m.Status.EXTENDED
    services.log(request, "extended", staff.email, public=True, months=months, until=request.extended_to.isoformat(),
                 reason=reason)
    services.mail_requester(request, N_("Votre demande %(reference)s\u00a0: délai prolongé"), "extended")
    db.session.commit()


def refuse(request: m.RightsRequest, staff: Staff, reason: str) -> None:
    """Refuse a manifestly unfounded or excessive request, with the reason and the right to complain to the CNIL."""
    close_and_tell(request, staff, Action.REFUSE, m.Status.REFUSED, reason, "refused", reason=reason)


def answer(request: m.RightsRequest, staff: Staff, text: str) -> None:
    """Send the answer and close the request."""
    close_and_tell(request, staff, Action.ANSWER, m.Status.ANSWERED, text, "answered")


def close_and_tell(request: m.RightsRequest, staff: Staff, action: Action, status: str, outcome: str, event: str,
                   **detail) -> None:
    """Close the request once every connected system answered, log it, mail the requester (template `event`)."""
    require_fit(request, staff, action)
    require_systems_answered(request)
    close(request, status, outcome)
    services.log(request, event, staff.email, public=True, **detail)
    services.mail_requester(request, N_("Votre demande %(reference)s\u00a0: notre réponse"), event)
    db.session.commit()


def close(request: m.RightsRequest, status: str, outcome: str) -> None:
    """Record the outcome and the closing time."""
    request.status, request.outcome, request.closed_at = status, outcome, utcnow()
