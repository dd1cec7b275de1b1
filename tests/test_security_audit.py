"""The journal of staff reads: every view of the queue or a request, every data package, every export; the dpo reads
it in the back-office, `flask audit export --since` prints it as CSV."""

import csv
import io

import pytest

from app.backoffice.models import StaffRead
from app.database import AppendOnlyError
from app.extensions import db
from app.rights.fulfilment import Action
from tests.conftest import csrf_token
from tests.support.pages import vnu_errors
from tests.support.rights import confirmed_request, staff_action, staff_client


def journal() -> list[tuple[str, str, str]]:
    """(who, what, target) of every read, oldest first."""
    db.session.expire_all()
    return [(r.staff_email, r.what, r.target) for r in db.session.query(StaffRead).order_by(StaffRead.id)]


def test_views_packages_and_exports_are_journaled_and_the_dpo_reads_them(app, client, mailbox, runner, tmp_path):
    reference = confirmed_request(client, mailbox).reference
    agent = staff_client(app, "agent")
    agent.get("/admin/?type=access")
    staff_action(agent, reference, Action.PACKAGE)
    assert journal() == [
        ("agent@k-inventory.com", "queue", "type=access statut="),
        ("agent@k-inventory.com", "request", reference),  # the page read before pressing the button
        ("agent@k-inventory.com", "package", reference),
    ]
    assert agent.get("/admin/journal").status_code == 403
    dpo = staff_client(app, "dpo")
    page = dpo.get("/admin/journal")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "agent@k-inventory.com" in html and f">{reference}</a>" in html
    assert "Dossier de données" in html and page.headers["Cache-Control"] == "private, no-store"
    assert vnu_errors({"journal.html": page.data}, tmp_path) == []

    result = runner.invoke(args=["audit", "export", "--since", "2020-01-01"])
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [row["what"] for row in rows] == ["queue", "request", "package", "journal"]
    assert rows[2]["staff_email"] == "agent@k-inventory.com" and rows[2]["target"] == reference
    assert journal()[-1][:2] == ("flask audit export", "export")
    assert runner.invoke(args=["audit", "export", "--since", "2999-01-01"]).output == (
        "occurred_at,staff_email,what,target\n")


def test_a_refused_action_journals_no_package(app, client, mailbox):
    reference = confirmed_request(client, mailbox, kind="erasure").reference
    agent = staff_client(app, "agent")
    page = agent.get(f"/admin/demandes/{reference}").get_data(as_text=True)
    assert agent.post(f"/admin/demandes/{reference}/dossier", data={"csrf_token": csrf_token(page)}).status_code == 409
    assert [what for _who, what, _target in journal()] == ["request"]


def test_the_journal_is_append_only(app, client, mailbox):
    staff_client(app).get("/admin/")
    read = db.session.query(StaffRead).one()
    read.target = "changed"
    with pytest.raises(AppendOnlyError):
        db.session.commit()
    db.session.rollback()
