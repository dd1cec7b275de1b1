"""Staff actions on a request: each checks the request's state and the role, logs, and tells the requester."""

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


# The actions that only fit some types of request; the others fit every type.
ACTION_KINDS = {
    Action.PACKAGE: {m.Kind.ACCESS, m.Kind.PORTABILITY},
    Action.OPT_OUT: {m.Kind.OBJECTION, m.Kind.WITHDRAWAL, m.Kind.UNSUBSCRIBE},
    Action.RESTRICT: {m.Kind.RESTRICTION},
    Action.LIFT_RESTRICTION: {m.Kind.RESTRICTION},
    Action.DIRECTIVES: {m.Kind.POST_MORTEM},
    Action.ERASE: {m.Kind.ERASURE},
    Action.RECTIFY: {m.Kind.RECTIFICATION},
}
DPO_ONLY = {Action.ERASE, Action.REFUSE, Action.OVERRIDE_SYSTEMS}
WHILE_OPEN = set(Action) - {Action.NOTE}


def fits(request: m.RightsRequest, staff: Staff, action: Action) -> bool:
    """Whether the action suits this request's type, its openness and the staff member's role."""
    if action in WHILE_OPEN and not request.is_open:
        return False
    if action == Action.EXTEND and request.extended_to is not None:
        return False
    if action == Action.OVERRIDE_SYSTEMS and not connectors.unanswered(request.id):
        return False
    if action == Action.START and request.status != m.Status.CONFIRMED:
        return False
    if action in DPO_ONLY and staff.role != Role.DPO:
        return False
    return request.kind in ACTION_KINDS.get(action, {request.kind})


def offered_actions(request: m.RightsRequest, staff: Staff) -> set[Action]:
    """The actions the request page offers this staff member."""
    return {action for action in Action if fits(request, staff, action)}


def require_fit(request: m.RightsRequest, staff: Staff, action: Action) -> None:
    """Refuse an action the page does not offer (a forged or stale form)."""
    if action in ACTION_KINDS and request.kind not in ACTION_KINDS[action]:
        raise ActionRefused(_l("Cette action ne s’applique pas à ce type de demande."))


def require_open(request: m.RightsRequest) -> None:
    """Closed requests take no more action."""
    if not request.is_open:
        raise ActionRefused(_l("Cette demande est close."))


def require_confirmed(request: m.RightsRequest) -> None:
    """Data is only handed over or changed once the requester has proved the address is theirs."""
    require_open(request)
    if request.status == m.Status.UNCONFIRMED:
        raise ActionRefused(_l("Le demandeur n’a pas encore confirmé son adresse e-mail\u00a0: son identité n’est "
                               "pas vérifiée."))


def require_dpo(staff: Staff) -> None:
    """Only the data-protection officer may refuse a request or erase data."""
    if staff.role != Role.DPO:
        raise ActionRefused(_l("Seul le délégué à la protection des données (rôle dpo) peut faire cela."))


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
    require_dpo(staff)
    require_open(request)
    waiting = [call.system.name for call in connectors.unanswered(request.id)]
    if not waiting:
        raise ActionRefused(_l("Tous les systèmes connectés ont répondu."))
    services.log(request, "systems_overridden", staff.email, systems=waiting, reason=reason)
    db.session.commit()


def start_fulfilling(request: m.RightsRequest, staff: Staff) -> None:
    """Staff take the request up: it is in progress, and every connected system concerned is asked."""
    require_confirmed(request)
    if request.status != m.Status.CONFIRMED:
        raise ActionRefused(_l("Le traitement de cette demande a déjà commencé."))
    start(request)
    services.log(request, "started", staff.email, public=True)
    db.session.commit()


def add_note(request: m.RightsRequest, staff: Staff, text: str) -> None:
    """An internal note on the timeline."""
    services.log(request, "note", staff.email, text=text)
    db.session.commit()


def send_data_package(request: m.RightsRequest, staff: Staff) -> m.DataPackage:
    """Build the ZIP of everything held on the person (connected systems' exports included) and mail a link."""
    require_confirmed(request)
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
    require_dpo(staff)
    require_confirmed(request)
    start(request)
    counts = erase_person(services.person_of(request))
    services.log(request, "erased", staff.email, public=True, counts=counts)
    db.session.commit()
    return counts


def rectify(request: m.RightsRequest, staff: Staff, changes: dict[str, str]) -> list[dict]:
    """Apply corrections (name, e-mail, phone) everywhere they are held; before and after go in the log."""
    require_confirmed(request)
    start(request)
    applied = rectify_person(request, changes)
    if not applied:
        raise ActionRefused(_l("Aucune modification\u00a0: les nouvelles valeurs sont identiques aux anciennes."))
    services.log(request, "rectified", staff.email, public=True, changes=applied)
    db.session.commit()
    return applied


def opt_out_everywhere(request: m.RightsRequest, staff: Staff) -> None:
    """Objection, consent withdrawal, unsubscribe: off every list and channel, on the opt-out list."""
    require_confirmed(request)
    start(request)
    channels = [Channel.EMAIL] + ([Channel.SMS] if request.phone else [])
    services.log(request, "opted_out", staff.email, public=True, channels=channels)
    record_staff_opt_out(email=request.email, phone=request.phone)


def restrict(request: m.RightsRequest, staff: Staff) -> None:
    """Restriction: no marketing send and no re-contact on any channel until staff lift it."""
    require_confirmed(request)
    start(request)
    for channel, identifier in restriction_targets(request):
        suppress(channel, **identifier, source="rights_request", reason=Reason.RESTRICTION)
    services.log(request, "restricted", staff.email, public=True)
    db.session.commit()


def lift_restriction(request: m.RightsRequest, staff: Staff) -> None:
    """End a restriction (the person asked, or the reason for it is settled)."""
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
    require_confirmed(request)
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
    require_open(request)
    if request.extended_to is not None:
        raise ActionRefused(_l("Le délai a déjà été prolongé."))
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
    require_dpo(staff)
    require_open(request)
    require_systems_answered(request)
    close(request, m.Status.REFUSED, reason)
    services.log(request, "refused", staff.email, public=True, reason=reason)
    services.mail_requester(request, N_("Votre demande %(reference)s\u00a0: notre réponse"), "refused")
    db.session.commit()


def answer(request: m.RightsRequest, staff: Staff, text: str) -> None:
    """Send the answer and close the request."""
    require_open(request)
    require_systems_answered(request)
    close(request, m.Status.ANSWERED, text)
    services.log(request, "answered", staff.email, public=True)
    services.mail_requester(request, N_("Votre demande %(reference)s\u00a0: notre réponse"), "answered")
    db.session.commit()


def close(request: m.RightsRequest, status: str, outcome: str) -> None:
    """Record the outcome and the closing time."""
    request.status, request.outcome, request.closed_at = status, outcome, utcnow()
