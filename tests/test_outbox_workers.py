"""Workers in their own processes, on the suite's database (one SQLite file, or PostgreSQL): two at once, or the
scheduler beside one, never send a row twice; a worker killed with SIGKILL costs at most the message in flight,
and its rows are due again within a minute. Counted at the SMTP sink and at a fake Twilio API on loopback."""

import asyncio
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs

import sqlalchemy as sa
from werkzeug import Response

from app import claims
from app.database import utcnow
from app.extensions import db
from app.mail.models import OutboxMessage, OutboxStatus
from app.mail.services import queue_mail
from app.sms.models import SmsMessage, SmsStatus
from app.sms.services import deliver_due as deliver_sms
from app.sms.services import queue_sms
from tests.conftest import TEST_DATABASE_URL
from tests.support.smtp import SinkHandler, SmtpSink

ROOT = Path(__file__).resolve().parent.parent
FLASK = str(Path(sys.executable).parent / "flask")
ACCOUNT = "AC" + "0" * 32
MESSAGES = f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
COUNT = 200


def worker(*args: str, **settings: str) -> subprocess.Popen:
    """`flask …` in its own process, on the test database."""
    env = {**os.environ, "DATABASE_URL": TEST_DATABASE_URL, "FLASK_APP": "wsgi:app", **settings}
    return subprocess.Popen([FLASK, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def finished(*processes: subprocess.Popen) -> list[str]:
    """Wait for the processes; their outputs (each must have succeeded)."""
    outputs = [process.communicate(timeout=300) for process in processes]
    assert [process.returncode for process in processes] == [0] * len(processes), outputs
    return [out + err for out, err in outputs]


def twilio_settings(httpserver) -> dict[str, str]:
    """The settings that point a worker at the fake Twilio API."""
    return {"TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_AUTH_TOKEN": "twilio-auth-token-for-tests-0123456789",
            "TWILIO_FROM": "+33700000000", "TWILIO_API_URL": httpserver.url_for("/").rstrip("/")}


def mail_settings(sink: SmtpSink) -> dict[str, str]:
    """The settings that point a worker at an SMTP sink."""
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(sink.port)}


def twilio_accepts(httpserver, hold: "Hold | None" = None) -> None:
    """Twilio answers 201 with a new SID to every message (after `hold` lets the one it stops go)."""

    def answer(request) -> Response:
        if hold is not None:
            hold.arrived()
        return Response(f'{{"sid": "SM{uuid.uuid4().hex}", "status": "queued"}}', status=201,
                        content_type="application/json")

    httpserver.expect_request(MESSAGES, method="POST").respond_with_handler(answer)


def texted(httpserver) -> Counter:
    """How many SMS Twilio took for each number."""
    return Counter(parse_qs(request.get_data(as_text=True))["To"][0] for request, _ in httpserver.log)


def number(index: int) -> str:
    """A French mobile number of its own for each index."""
    return f"+3361{index:07d}"


def queue_both(count: int = COUNT) -> None:
    """`count` mails and `count` SMS (codes: sent at any hour), committed."""
    for index in range(count):
        queue_mail(f"person{index}@example.com", f"Sujet {index}", f"Bonjour {index}")
        queue_sms(number(index), f"Votre code : {index:06d}")
    db.session.commit()


def test_two_workers_and_the_scheduler_beside_one_never_send_a_row_twice(app, httpserver, mailbox):
    twilio_accepts(httpserver)
    queue_both()
    sms = twilio_settings(httpserver)
    mail = mail_settings(mailbox)
    finished(worker("outbox", "send", **mail), worker("outbox", "send", **mail),
             worker("sms", "deliver", **sms), worker("sms", "deliver", **sms),
             worker("jobs", "run", "--only", "sms", "--passes", "3", "--interval", "0.2", **sms))
    assert Counter(d.rcpt_tos[0] for d in mailbox.deliveries) == {f"person{i}@example.com": 1 for i in range(COUNT)}
    assert texted(httpserver) == {number(i): 1 for i in range(COUNT)}
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).where(
        SmsMessage.status == SmsStatus.SENT, SmsMessage.provider_sid.is_not(None))) == COUNT
    assert db.session.scalar(sa.select(sa.func.count()).where(
        OutboxMessage.status == OutboxStatus.SENT, OutboxMessage.provider_id.is_not(None))) == COUNT


class Hold:
    """Stops the provider on the n-th message it receives, until the test lets it go."""

    def __init__(self, at: int) -> None:
        self.at, self.seen = at, 0
        self.reached, self.released = threading.Event(), threading.Event()

    def arrived(self) -> None:
        """One message more; the n-th waits (the provider has it, the worker has no answer yet)."""
        self.seen += 1
        if self.seen == self.at:
            self.reached.set()
            self.released.wait(timeout=60)


class HoldingHandler(SinkHandler):
    """The SMTP sink, keeping each message, that holds its answer to the n-th one."""

    def __init__(self, hold: Hold) -> None:
        super().__init__()
        self.hold = hold

    async def handle_DATA(self, server, session, envelope):
        answer = await super().handle_DATA(server, session, envelope)
        await asyncio.get_running_loop().run_in_executor(None, self.hold.arrived)
        return answer


def killed_in_flight(process: subprocess.Popen, hold: Hold) -> None:
    """SIGKILL the worker while the provider holds a message it took, then let the provider answer."""
    assert hold.reached.wait(timeout=120), finished(process)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=30)  # its pipes closed
    hold.released.set()


def leases_run_out(time_machine) -> None:
    """Move the clock past a dead worker's leases (no heartbeat renews them any more)."""
    time_machine.move_to(utcnow() + claims.LEASE + timedelta(seconds=1), tick=True)


def test_a_killed_sms_worker_costs_at_most_the_message_in_flight(app, httpserver, time_machine):
    hold = Hold(at=5)
    twilio_accepts(httpserver, hold)
    queue_both(40)
    process = worker("sms", "deliver", **twilio_settings(httpserver))
    killed_in_flight(process, hold)
    app.config.update(twilio_settings(httpserver))
    assert deliver_sms().sent == 40 - claims.BATCH, "the dead worker's leased rows wait for their lease to run out"
    leases_run_out(time_machine)
    deliver_sms()
    counts = texted(httpserver)
    assert set(counts) == {number(i) for i in range(40)}
    assert sum(counts.values()) <= 41 and sorted(counts.values())[-2] == 1, "one message at most sent twice"


def test_a_killed_mail_worker_costs_at_most_the_message_in_flight(app, time_machine):
    from app.mail.services import deliver_due

    hold = Hold(at=5)
    sink = SmtpSink()
    sink.handler = HoldingHandler(hold)
    sink.start()
    try:
        queue_both(40)
        process = worker("outbox", "send", **mail_settings(sink))
        killed_in_flight(process, hold)
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=sink.port)
        assert deliver_due().sent == 40 - claims.BATCH, "the dead worker's leased rows wait for their lease to run out"
        leases_run_out(time_machine)
        deliver_due()
        counts = Counter(d.rcpt_tos[0] for d in sink.deliveries)
    finally:
        sink.stop()
    assert set(counts) == {f"person{i}@example.com" for i in range(40)}
    assert sum(counts.values()) <= 41 and sorted(counts.values())[-2] == 1, "one message at most sent twice"


def test_a_dead_schedulers_outbox_job_runs_again_within_a_minute(app):
    from app.jobs.models import ScheduledJob
    from app.jobs.registry import JOBS
    from app.jobs.services import claim, ensure_rows, run_due

    now = utcnow()
    ensure_rows(JOBS, now)
    outbox = next(job for job in JOBS if job.name == "outbox")
    assert claim(outbox, now)  # the scheduler that took it dies here, its lease never released
    db.session.execute(sa.update(ScheduledJob).where(ScheduledJob.name == "outbox").values(lease_owner="dead"))
    db.session.commit()
    runs = run_due([outbox], now + timedelta(seconds=59))
    assert [run.name for run in runs] == ["outbox"]


def test_a_live_workers_heartbeat_keeps_its_leases(app, time_machine):
    queue_both(3)
    owner = claims.new_owner()
    assert len(claims.claim(SmsMessage.__table__, owner, 3)) == 3
    beat = claims.Heartbeat(db.engine, SmsMessage.__table__, owner, app.logger)
    for _ in range(4):  # a long send: four beats, each a third of a lease apart
        time_machine.move_to(utcnow() + claims.HEARTBEAT, tick=False)
        beat.renew()
    assert claims.claim(SmsMessage.__table__, claims.new_owner(), 3) == [], "still leased to the live worker"
    time_machine.move_to(utcnow() + claims.LEASE + timedelta(seconds=1), tick=False)
    assert len(claims.claim(SmsMessage.__table__, claims.new_owner(), 3)) == 3, "free once the beats stopped"
