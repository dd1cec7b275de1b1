"""The request queue, and each back-office action: the form it takes and the rights service it runs."""

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from app.backoffice.forms import (
    ActionForm,
    AnswerForm,
    EraseForm,
    ExtendForm,
    NoteForm,
    OverrideForm,
    RectifyForm,
    RefuseForm,
)
from app.datamap import data_map, export_person
from app.extensions import db
from app.forms import Form
from app.rights import fulfilment
from app.rights import models as m
from app.rights.fulfilment import Action, Staff
from app.rights.labels import N_
from app.rights.services import person_of


@dataclass(frozen=True)
class QueueFilter:
    """What the queue shows: open requests by default, optionally one type or one status."""

    kind: str | None = None
    status: str | None = None

    def query(self) -> sa.Select:
        """Requests sorted by deadline, soonest first."""
        deadline = sa.func.coalesce(m.RightsRequest.extended_to, m.RightsRequest.due_on)
        query = sa.select(m.RightsRequest).order_by(deadline, m.RightsRequest.id)
        if self.kind in tuple(m.Kind):
            query = query.where(m.RightsRequest.kind == self.kind)
        if self.status in tuple(m.Status):
            return query.where(m.RightsRequest.status == self.status)
        if self.status == "closed":
            return query.where(m.RightsRequest.status.in_(m.CLOSED_STATUSES))
        return query.where(m.RightsRequest.status.in_(m.OPEN_STATUSES))


def queue(filters: QueueFilter) -> list[m.RightsRequest]:
    """The queue as filtered."""
    return list(db.session.scalars(filters.query()))


def add_note(request: m.RightsRequest, staff: Staff, form: NoteForm) -> None:
    """An internal note on the timeline."""
    fulfilment.add_note(request, staff, form.text.data)


def rectify(request: m.RightsRequest, staff: Staff, form: RectifyForm) -> None:
    """The corrected name, address or number, blank fields left as they are."""
    fulfilment.rectify(request, staff, {"name": form.name.data, "email": form.email.data, "phone": form.phone.data})


def extend(request: m.RightsRequest, staff: Staff, form: ExtendForm) -> None:
    """One or two more months, with the reason."""
    fulfilment.extend(request, staff, int(form.months.data), form.reason.data)


def refuse(request: m.RightsRequest, staff: Staff, form: RefuseForm) -> None:
    """Refuse with the reason the requester reads."""
    fulfilment.refuse(request, staff, form.reason.data)


def override_systems(request: m.RightsRequest, staff: Staff, form: OverrideForm) -> None:
    """Let the request close without the systems that have not answered, with the reason."""
    fulfilment.override_systems(request, staff, form.reason.data)


def answer(request: m.RightsRequest, staff: Staff, form: AnswerForm) -> None:
    """Send the answer and close."""
    fulfilment.answer(request, staff, form.text.data)


Runner = Callable[[m.RightsRequest, Staff, Form], None]


def without_form(run: Callable[[m.RightsRequest, Staff], object]) -> Runner:
    """An action whose form is its button alone."""

    def perform(request: m.RightsRequest, staff: Staff, _form: Form) -> None:
        run(request, staff)

    perform.__doc__ = run.__doc__
    return perform


@dataclass(frozen=True)
class Confirmation:
    """What the page asking to confirm an action says will happen, and its button."""

    what: str
    button: str


@dataclass(frozen=True)
class Step:
    """One back-office action: its form, what it runs, what the staff member reads after it, and, for an action
    that cannot be undone, the confirmation asked first."""

    form: type[Form]
    run: Runner
    done: str
    confirmation: Confirmation | None = None


def data_held(request: m.RightsRequest) -> list[tuple[str, int]]:
    """What an erasure would find: each kind of data held on the person (its register title) and its records."""
    kinds = data_map()
    return [(str(kinds[name].title), len(rows)) for name, rows in export_person(person_of(request)).items()
            if rows]


STEPS = {
    Action.NOTE: Step(NoteForm, add_note, N_("Note ajoutée.")),
    Action.START: Step(ActionForm, without_form(fulfilment.start_fulfilling),
                       N_("Traitement commencé\u00a0; les systèmes connectés concernés sont interrogés.")),
    Action.PACKAGE: Step(ActionForm, without_form(fulfilment.send_data_package),
                         N_("Dossier de données préparé\u00a0; le lien a été envoyé au demandeur.")),
    Action.ERASE: Step(EraseForm, without_form(fulfilment.erase),
                       N_("Données effacées\u00a0; la liste d’opposition et cette demande sont conservées."),
                       Confirmation(N_("Toutes les données de %(email)s seront effacées ou anonymisées, sans retour "
                                       "possible\u00a0; seules la liste d’opposition et cette demande sont "
                                       "conservées. Données détenues aujourd’hui\u00a0:"),
                                    N_("Confirmer l’effacement"))),
    Action.RECTIFY: Step(RectifyForm, rectify, N_("Données rectifiées.")),
    Action.OPT_OUT: Step(ActionForm, without_form(fulfilment.opt_out_everywhere),
                         N_("Personne désinscrite de tous les canaux et ajoutée à la liste d’opposition.")),
    Action.RESTRICT: Step(ActionForm, without_form(fulfilment.restrict), N_("Traitement limité.")),
    Action.LIFT_RESTRICTION: Step(ActionForm, without_form(fulfilment.lift_restriction), N_("Limitation levée.")),
    Action.DIRECTIVES: Step(ActionForm, without_form(fulfilment.record_directives),
                            N_("Directives post-mortem enregistrées.")),
    Action.EXTEND: Step(ExtendForm, extend, N_("Délai prolongé\u00a0; le demandeur est prévenu.")),
    Action.REFUSE: Step(RefuseForm, refuse, N_("Demande refusée\u00a0; le demandeur est prévenu."),
                        Confirmation(N_("La demande %(reference)s sera refusée et close. Le demandeur recevra par "
                                        "e-mail ce motif et la mention de son droit d’introduire une réclamation "
                                        "auprès de la CNIL\u00a0:"), N_("Confirmer le refus"))),
    Action.ANSWER: Step(AnswerForm, answer, N_("Réponse envoyée\u00a0; la demande est close.")),
    Action.OVERRIDE_SYSTEMS: Step(OverrideForm, override_systems,
                                  N_("La demande pourra être close sans la réponse des systèmes en attente.")),
}


# The name each form goes by on the request page (backoffice/request.html).
FORM_KEYS = {NoteForm: "note", RectifyForm: "rectify", ExtendForm: "extend", RefuseForm: "refuse",
             AnswerForm: "answer", ActionForm: "action", OverrideForm: "override", EraseForm: "erase"}


def perform(request: m.RightsRequest, staff: Staff, action: Action, form: Form) -> None:
    """Run one action; the rights service checks it against the table (ActionRefused otherwise)."""
    STEPS[action].run(request, staff, form)
