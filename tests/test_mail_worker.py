"""The outbox worker drains everything due in one pass, and with --loop polls again at once while there is work."""

import time

import sqlalchemy as sa

from app.extensions import db
from app.mail.models import OutboxMessage, OutboxStatus
from app.mail.services import deliver_due, queue_mail

MORE_THAN_THE_OLD_LIMIT = 520  # one pass used to stop at 500


def queue(count: int) -> None:
    """COUNT due messages."""
    for number in range(count):
        queue_mail(f"lecteur{number}@example.com", "Bonjour", "Un message.")
    db.session.commit()


def pending() -> int:
    """Messages still waiting."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage).where(
        OutboxMessage.status == OutboxStatus.PENDING))


def test_one_shot_send_drains_everything_due(make_app, tmp_path):
    app = make_app(MAIL_SERVER="", MAIL_FILE_DIR=str(tmp_path))
    with app.app_context():
        queue(MORE_THAN_THE_OLD_LIMIT)
        result = app.test_cli_runner().invoke(args=["outbox", "send"])
        assert result.output.strip() == f"sent {MORE_THAN_THE_OLD_LIMIT}, to retry 0, failed 0"
        assert pending() == 0
        assert len(list(tmp_path.glob("*.eml"))) == MORE_THAN_THE_OLD_LIMIT


def test_deliver_due_still_takes_a_limit(make_app, tmp_path):
    app = make_app(MAIL_SERVER="", MAIL_FILE_DIR=str(tmp_path))
    with app.app_context():
        queue(5)
        assert deliver_due(limit=2).sent == 2
        assert pending() == 3


def test_loop_polls_again_at_once_after_a_busy_pass(make_app, tmp_path):
    app = make_app(MAIL_SERVER="", MAIL_FILE_DIR=str(tmp_path))
    with app.app_context():
        queue(3)
        started = time.monotonic()
        result = app.test_cli_runner().invoke(args=["outbox", "send", "--loop", "--interval", "60", "--passes", "2"])
        assert time.monotonic() - started < 30  # the second pass came without the 60 s wait
        assert result.exit_code == 0 and "sent 3" in result.output and pending() == 0


def test_loop_waits_only_when_nothing_is_due(make_app, tmp_path):
    app = make_app(MAIL_SERVER="", MAIL_FILE_DIR=str(tmp_path))
    with app.app_context():
        started = time.monotonic()
        result = app.test_cli_runner().invoke(args=["outbox", "send", "--loop", "--interval", "0.5", "--passes", "2"])
        assert result.exit_code == 0 and result.output == ""
        assert time.monotonic() - started >= 0.5
