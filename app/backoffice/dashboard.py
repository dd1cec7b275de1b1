"""The DPO's dashboard: four charts, each with a title, a summary in words and its figures as a table."""

from dataclasses import dataclass, field
from datetime import datetime

from flask import render_template
from flask_babel import format_decimal, format_percent, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.backoffice import bp, stats
from app.backoffice.charts import Chart, percent_lines, stacked_bars
from app.backoffice.selfcheck import disagreements
from app.consent.services import current_register
from app.database import utcnow
from app.extensions import db
from app.newsletter import sms_budget
from app.rights.labels import STATUS_LABELS
from app.rights.services import today
from app.scanner.services import finding_labels, recent_scans, state_labels
from app.templating import page_date

DUE_LABELS = {"overdue": _l("En retard"), "soon": _l("Échéance sous 7 jours"), "later": _l("Échéance plus lointaine")}
ANSWER_LABELS = {"on_time": _l("Dans le délai"), "late": _l("Hors délai")}
OPT_OUT_LABELS = {"link": _l("Lien de désabonnement ou préférences"), "one_click": _l("Désabonnement en un clic"),
                  "stop": _l("STOP par SMS"), "staff": _l("Équipe (demande de droits)"),
                  "bounce": _l("Adresse en échec ou plainte"), "other": _l("Autre")}


@dataclass
class Panel:
    """One chart of the dashboard, with what a reader without the picture needs."""

    key: str
    title: str
    summary: str
    chart: Chart
    legend: list[str]
    head: list[str]
    rows: list[list[str]] = field(default_factory=list)


def number(value: float) -> str:
    """A count in the page's language (« 230 000 »)."""
    return format_decimal(value, format="#,##0")


def share(part: float, whole: float) -> str:
    """A share in the page's language (« 48 % »), or a dash when there is nothing to divide."""
    return format_percent(part / whole) if whole else "–"


def ratio(part: float, whole: float) -> float | None:
    """A share from 0 to 1, or None when there is nothing to divide."""
    return part / whole if whole else None


def week_label(start) -> str:
    """A week by its Monday (« 23 nov. »)."""
    return page_date(start, "d MMM")


def open_requests_panel() -> Panel:
    """Open requests by status, split by how soon they are due."""
    series = stats.open_requests(today())
    rows = [[counts[column] for column in series.columns] for _period, counts in series.rows]
    total = sum(map(sum, rows))
    summary = ngettext("%(total)s demande ouverte, dont %(late)s en retard et %(soon)s à échéance sous 7 jours.",
                       "%(total)s demandes ouvertes, dont %(late)s en retard et %(soon)s à échéance sous 7 jours.",
                       total, total=number(total), late=number(series.total("overdue")),
                       soon=number(series.total("soon")))
    labels = [str(STATUS_LABELS[status]) for status, _counts in series.rows]
    return Panel("ouvertes", _("Demandes ouvertes par statut et échéance"), summary,
                 stacked_bars(labels, rows, number), [str(DUE_LABELS[c]) for c in series.columns],
                 [_("Statut"), *[str(DUE_LABELS[c]) for c in series.columns], _("Total")],
                 [[label, *map(number, row), number(sum(row))] for label, row in zip(labels, rows, strict=True)])


def answers_panel(now: datetime) -> Panel:
    """Requests answered per month over 12 months, on time or late."""
    series = stats.answers_on_time(now)
    rows = [[counts["on_time"], counts["late"]] for _period, counts in series.rows]
    on_time, answered = series.total("on_time"), series.total("on_time") + series.total("late")
    summary = ngettext("Sur 12 mois, %(on_time)s réponse sur %(total)s (%(share)s) envoyée dans le délai.",
                       "Sur 12 mois, %(on_time)s réponses sur %(total)s (%(share)s) envoyées dans le délai.", on_time,
                       on_time=number(on_time), total=number(answered), share=share(on_time, answered))
    labels = [page_date(first, "MMM y") for first, _counts in series.rows]
    return Panel("delais", _("Demandes répondues dans le délai, par mois"), summary,
                 stacked_bars(labels, rows, number), [str(ANSWER_LABELS[c]) for c in series.columns],
                 [_("Mois"), *[str(ANSWER_LABELS[c]) for c in series.columns], _("Part dans le délai")],
                 [[label, number(ok), number(late), share(ok, ok + late)]
                  for label, (ok, late) in zip(labels, rows, strict=True)])


def consent_panel(now: datetime) -> Panel:
    """Per week over 12 weeks: the share of choices accepting each category, and the share of GPC signals."""
    series = stats.consent_choices(now)
    categories = current_register().optional
    labels = [week_label(start) for start, _counts in series.rows]
    weeks = [counts for _period, counts in series.rows]
    lines = [[ratio(c[cat.key], c["choices"]) for c in weeks] for cat in categories]
    lines.append([ratio(c["gpc"], c["choices"] + c["gpc"]) for c in weeks])
    choices, gpc = series.total("choices"), series.total("gpc")
    accepted = ", ".join(_("%(category)s %(share)s", category=str(cat.name).lower(),
                           share=share(series.total(cat.key), choices)) for cat in categories)
    summary = ngettext("Sur 12 semaines, %(choices)s choix enregistré\u202f; acceptés\u00a0: %(accepted)s. "
                       "Signaux GPC\u00a0: %(gpc)s (%(share)s des enregistrements).",
                       "Sur 12 semaines, %(choices)s choix enregistrés\u202f; acceptés\u00a0: %(accepted)s. "
                       "Signaux GPC\u00a0: %(gpc)s (%(share)s des enregistrements).", choices, choices=number(choices),
                accepted=accepted, gpc=number(gpc), share=share(gpc, choices + gpc))
    return Panel("consentement", _("Choix de cookies par catégorie et par semaine"), summary,
                 percent_lines(labels, lines, lambda value: share(value, 1)),
                 [_("%(category)s acceptés", category=cat.name) for cat in categories] + [_("Part des signaux GPC")],
                 [_("Semaine du"), _("Choix"), *[str(cat.name) for cat in categories], _("Signaux GPC")],
                 [[label, number(c["choices"]), *[f"{number(c[cat.key])} ({share(c[cat.key], c['choices'])})"
                                                  for cat in categories],
                   f"{number(c['gpc'])} ({share(c['gpc'], c['choices'] + c['gpc'])})"]
                  for label, (_period, c) in zip(labels, series.rows, strict=True)])


def opt_outs_panel(now: datetime) -> Panel:
    """Opt-outs per week over 12 weeks, by where they came from."""
    series = stats.opt_outs(now)
    rows = [[counts[column] for column in series.columns] for _period, counts in series.rows]
    parts = ", ".join(f"{str(OPT_OUT_LABELS[column]).lower()}\u00a0: {number(series.total(column))}"
                      for column in series.columns if series.total(column))
    total = sum(map(sum, rows))
    summary = ngettext("Sur 12 semaines, %(total)s opposition enregistrée",
                       "Sur 12 semaines, %(total)s oppositions enregistrées", total, total=number(total)) + (
        f" ({parts})." if parts else ".")
    labels = [week_label(start) for start, _counts in series.rows]
    return Panel("oppositions", _("Oppositions par semaine et par origine"), summary,
                 stacked_bars(labels, rows, number), [str(OPT_OUT_LABELS[c]) for c in series.columns],
                 [_("Semaine du"), *[str(OPT_OUT_LABELS[c]) for c in series.columns], _("Total")],
                 [[label, *map(number, row), number(sum(row))] for label, row in zip(labels, rows, strict=True)])


@bp.route("/tableau-de-bord")
def dashboard():
    """Open requests, answers on time, consent choices and opt-outs, as charts with their figures."""
    now = utcnow()
    panels = [open_requests_panel(), answers_panel(now), consent_panel(now), opt_outs_panel(now)]
    db.session.commit()  # the finished weeks of consent counted for the first time
    return render_template("backoffice/dashboard.html", panels=panels, now=now, sms_codes=sms_budget.today(),
                           scans=recent_scans(), finding_labels=finding_labels(), state_labels=state_labels(),
                           disagreements=disagreements())
