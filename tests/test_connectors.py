"""Connected systems: signed requests fanned out through a durable queue, signed answers, the package and closing."""

import base64
import io
import json
import secrets
import uuid
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from standardwebhooks.webhooks import Webhook
from werkzeug import Response

from app.connectors.models import CallStatus, ConnectorCall, SeenAnswer
from app.connectors.services import deliver_due
from app.extensions import db
from tests.support.rights import confirmed_request, latest_mail, links, path_of, staff_action, staff_client

EMAIL = "jeanne@example.fr"


def new_secret() -> str:
    """A Standard Webhooks secret."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


@pytest.fixture
def systems(app, runner, httpserver):
    """Two systems on a loopback server: the product (access, erasure) and a CRM (access only)."""
    declared = {"produit": new_secret(), "crm": new_secret()}
    for name, secret in declared.items():
        types = "access,erasure" if name == "produit" else "access,portability"
        result = runner.invoke(args=["connectors", "add", name, "--url", httpserver.url_for(f"/{name}"),
                                     "--secret", secret, "--types", types])
        assert result.exit_code == 0, result.output
    return declared


def received(httpserver, name: str, secret: str) -> list[dict]:
    """The requests the fake system got, each checked with the official Standard Webhooks library."""
    bodies = []
    for request_, _response in httpserver.log:
        if request_.path == f"/{name}":
            bodies.append(Webhook(secret).verify(request_.get_data(), dict(request_.headers)))
    return bodies


def answer(client, name: str, secret: str, body: dict, *, webhook_id: str | None = None, age: int = 0):
    """POST a system's answer, signed as the Standard Webhooks library signs it."""
    data = json.dumps(body)
    moment = datetime.now(UTC) - timedelta(seconds=age)
    webhook_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    headers = {"webhook-id": webhook_id, "webhook-timestamp": str(int(moment.timestamp())),
               "webhook-signature": Webhook(secret).sign(webhook_id, moment, data)}
    return client.post(f"/webhooks/connectors/{name}", data=data, headers=headers, content_type="application/json")


def calls() -> list[ConnectorCall]:
    """Every request queued for a system, fresh from the database."""
    db.session.expire_all()
    return list(db.session.scalars(sa.select(ConnectorCall).order_by(ConnectorCall.id)))


def test_starting_a_request_asks_each_concerned_system_with_a_valid_signature(app, client, mailbox, systems,
                                                                              httpserver):
    httpserver.expect_request("/produit").respond_with_json({"ok": True})
    httpserver.expect_request("/crm").respond_with_json({"ok": True})
    request_ = confirmed_request(client, mailbox)
    assert staff_action(staff_client(app), request_.reference, "demarrer").status_code == 303
    assert deliver_due().sent == 2
    for name, secret in systems.items():
        [body] = received(httpserver, name, secret)
        assert body == {"reference": request_.reference, "type": "access", "email": EMAIL, "phone": None,
                        "due_on": request_.due_on.isoformat()}
    assert {call.status for call in calls()} == {CallStatus.SENT}


def test_a_system_down_for_a_while_loses_nothing(app, client, mailbox, systems, httpserver):
    httpserver.expect_oneshot_request("/produit").respond_with_response(Response("down", status=503))
    httpserver.expect_request("/crm").respond_with_json({"ok": True})
    request_ = confirmed_request(client, mailbox)
    staff_action(staff_client(app), request_.reference, "demarrer")
    report = deliver_due()
    assert (report.sent, report.retried) == (1, 1)
    [down] = [call for call in calls() if call.system.name == "produit"]
    assert down.status == CallStatus.PENDING and down.last_error == "HTTP 503"
    assert down.next_attempt_at > down.created_at
    assert deliver_due().sent == 0, "not retried before its back-off"
    httpserver.clear_all_handlers()
    httpserver.expect_request("/produit").respond_with_json({"ok": True})
    db.session.execute(sa.update(ConnectorCall).values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1)))
    db.session.commit()
    assert deliver_due().sent == 1
    assert [c.status for c in calls()] == [CallStatus.SENT, CallStatus.SENT]
    attempts = [req.headers["webhook-id"] for req, _ in httpserver.log if req.path == "/produit"]
    assert len(attempts) == 2 and attempts[0] == attempts[1], "the retry carries the same webhook-id"
    assert len(received(httpserver, "produit", systems["produit"])) == 2


def started(app, client, mailbox, httpserver, **fields):
    """A confirmed access request whose systems have been asked; the dpo's client."""
    httpserver.expect_request("/produit").respond_with_json({"ok": True})
    httpserver.expect_request("/crm").respond_with_json({"ok": True})
    request_ = confirmed_request(client, mailbox, **fields)
    dpo = staff_client(app, "dpo")
    staff_action(dpo, request_.reference, "demarrer")
    deliver_due()
    return request_, dpo


def test_forged_stale_and_replayed_answers_change_nothing(app, client, mailbox, systems, httpserver):
    request_, _dpo = started(app, client, mailbox, httpserver)
    body = {"reference": request_.reference, "status": "not_found"}
    assert answer(client, "produit", new_secret(), body).status_code == 401, "forged"
    assert answer(client, "produit", systems["produit"], body, age=600).status_code == 401, "stale"
    assert answer(client, "inconnu", systems["produit"], body).status_code == 404
    assert {c.status for c in calls()} == {CallStatus.SENT}
    first = answer(client, "produit", systems["produit"], body, webhook_id="msg_once")
    assert first.status_code == 200 and first.json == {"ok": True, "replay": False}
    replay = answer(client, "produit", systems["produit"], {**body, "status": "done"}, webhook_id="msg_once")
    assert replay.status_code == 200 and replay.json["replay"] is True
    [produit] = [c for c in calls() if c.system.name == "produit"]
    assert produit.status == CallStatus.ANSWERED and produit.answer == "not_found"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SeenAnswer)) == 1
    bad = answer(client, "crm", systems["crm"], {"reference": request_.reference, "status": "maybe"})
    assert bad.status_code == 400


def test_the_access_package_holds_each_systems_export(app, client, mailbox, systems, httpserver):
    request_, dpo = started(app, client, mailbox, httpserver)
    assert staff_action(dpo, request_.reference, "dossier").status_code == 409, "systems have not answered"
    answer(client, "produit", systems["produit"], {"reference": request_.reference, "status": "done",
                                                   "export": {"inventaires": [{"nom": "Entrepôt"}]}})
    answer(client, "crm", systems["crm"], {"reference": request_.reference, "status": "not_found"})
    assert staff_action(dpo, request_.reference, "dossier").status_code == 303
    [link] = links(latest_mail(mailbox, EMAIL), "/demande/dossier/")
    archive = zipfile.ZipFile(io.BytesIO(client.get(path_of(link)).data))
    assert json.loads(archive.read("systemes/produit.json")) == {"inventaires": [{"nom": "Entrepôt"}]}
    assert "systemes/crm.json" not in archive.namelist()
    assert all(call.export is None for call in calls()), "exports are not kept once packaged"


def test_closing_waits_for_every_system_or_a_dpo_override_with_a_reason(app, client, mailbox, systems,
                                                                         httpserver):
    request_, dpo = started(app, client, mailbox, httpserver)
    closing = staff_action(dpo, request_.reference, "repondre", text="Voici notre réponse.")
    assert closing.status_code == 409 and "crm" in closing.get_data(as_text=True)
    answer(client, "crm", systems["crm"], {"reference": request_.reference, "status": "done"})
    agent = staff_client(app, "agent", email="agent@k-inventory.com")
    assert staff_action(agent, request_.reference, "passer-outre", reason="Produit hors service").status_code == 409
    assert staff_action(dpo, request_.reference, "passer-outre", reason="").status_code == 400
    assert staff_action(dpo, request_.reference, "passer-outre", reason="Produit hors service").status_code == 303
    assert staff_action(dpo, request_.reference, "repondre", text="Voici notre réponse.").status_code == 303
    page = dpo.get(f"/admin/demandes/{request_.reference}").get_data(as_text=True)
    assert "Clôture autorisée sans la réponse de systèmes connectés" in page and "Produit hors service" in page


def test_remind_lists_systems_that_are_late(app, client, mailbox, systems, httpserver, runner):
    request_, _dpo = started(app, client, mailbox, httpserver)
    db.session.execute(sa.update(ConnectorCall).values(created_at=datetime.now(UTC) - timedelta(days=8)))
    db.session.commit()
    answer(client, "crm", systems["crm"], {"reference": request_.reference, "status": "done"})
    result = runner.invoke(args=["rights", "remind"])
    assert f"{request_.reference}: connected system produit has not answered" in result.output
    assert "connected system crm" not in result.output


def test_connectors_commands_refuse_bad_declarations(runner, systems):
    cases = [["x", "--url", "ftp://x", "--secret", new_secret(), "--types", "access"],
             ["x", "--url", "https://x.example", "--secret", "nope", "--types", "access"],
             ["x", "--url", "https://x.example", "--secret", new_secret(), "--types", "access,spying"],
             ["crm", "--url", "https://x.example", "--secret", new_secret(), "--types", "access"]]
    for args in cases:
        result = runner.invoke(args=["connectors", "add", *args])
        assert result.exit_code != 0 and "Error" in result.output
    listing = runner.invoke(args=["connectors", "list"]).output
    assert "produit" in listing and "whsec_" not in listing, "the list never shows a secret"
    assert runner.invoke(args=["connectors", "remove", "crm"]).exit_code == 0
    assert "crm" not in runner.invoke(args=["connectors", "list"]).output


def test_three_deliveries_of_one_answer_at_once_are_taken_once(make_app, runner, mailbox, httpserver):
    from tests.support.live import LiveServer

    app = make_app(RATELIMIT_ENABLED=False)
    with app.app_context():
        client = app.test_client()
        secret = new_secret()
        runner = app.test_cli_runner()
        assert runner.invoke(args=["connectors", "add", "produit", "--url", httpserver.url_for("/produit"),
                                   "--secret", secret, "--types", "access"]).exit_code == 0
        httpserver.expect_request("/produit").respond_with_json({"ok": True})
        request_ = confirmed_request(client, mailbox)
        staff_action(staff_client(app, "dpo"), request_.reference, "demarrer")
        deliver_due()
        server = LiveServer(app).start()
        try:
            statuses = deliver_at_once(server, secret, {"reference": request_.reference, "status": "not_found"})
        finally:
            server.stop()
        assert sorted(status for status, _body in statuses) == [200, 200, 200]
        assert sorted(body["replay"] for _status, body in statuses) == [False, True, True]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SeenAnswer)) == 1


def deliver_at_once(server, secret: str, body: dict) -> list[tuple[int, dict]]:
    """The same signed answer (one webhook-id) posted three times, released together."""
    import http.client
    from urllib.parse import urlsplit

    from tests.support.live import all_at_once

    data, moment, webhook_id = json.dumps(body), datetime.now(UTC), f"msg_{uuid.uuid4().hex}"
    headers = {"content-type": "application/json", "webhook-id": webhook_id,
               "webhook-timestamp": str(int(moment.timestamp())),
               "webhook-signature": Webhook(secret).sign(webhook_id, moment, data)}

    def post() -> tuple[int, dict]:
        connection = http.client.HTTPConnection(urlsplit(server.url).netloc, timeout=30)
        connection.request("POST", "/webhooks/connectors/produit", body=data.encode(), headers=headers)
        response = connection.getresponse()
        answer = (response.status, json.loads(response.read()))
        connection.close()
        return answer

    return all_at_once([post] * 3)


def test_an_answer_with_a_two_megabyte_export_is_taken(app, client, mailbox, systems, httpserver):
    request_, _dpo = started(app, client, mailbox, httpserver)
    export = {"lignes": ["x" * 1000] * 2000}  # about 2 MB: the documented limit
    response = answer(client, "produit", systems["produit"], {"reference": request_.reference, "status": "done",
                                                              "export": export})
    assert response.status_code == 200 and response.json == {"ok": True, "replay": False}
    too_big = answer(client, "crm", systems["crm"], {"reference": request_.reference, "status": "done",
                                                     "export": {"lignes": ["x" * 1000] * 2200}})
    assert too_big.status_code == 413
    form = client.post("/contact", data={"message": "x" * 70_000})
    assert form.status_code == 413, "forms keep their 64 KB limit"


def test_two_webhook_ids_sharing_their_first_100_characters_are_two_answers(app, client, mailbox, systems,
                                                                           httpserver):
    request_, _dpo = started(app, client, mailbox, httpserver)
    common = "msg_" + "a" * 100
    first = answer(client, "produit", systems["produit"], {"reference": request_.reference, "status": "not_found"},
                   webhook_id=common + "1")
    second = answer(client, "crm", systems["crm"], {"reference": request_.reference, "status": "not_found"},
                    webhook_id=common + "2")
    assert first.json == second.json == {"ok": True, "replay": False}
    assert {call.status for call in calls()} == {CallStatus.ANSWERED}
