"""« Conservation des données » (/admin/conservation): the retention register as staff read it, with each rule's
last run."""

from flask import render_template

from app.backoffice import bp
from app.retention.register import ACTION_LABELS, Action, all_rules
from app.retention.runner import last_runs


@bp.route("/conservation")
def retention():
    """Every rule of the register: data, period, starting event, action, the policy's sentence, last run."""
    return render_template("backoffice/retention.html", rules=all_rules(), runs=last_runs(),
                           action_labels=ACTION_LABELS, Action=Action)
