"""Long commands show a progress bar with counts and rate on a terminal, and print nothing extra otherwise."""

import os
import pty
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

from app.consent.models import ConsentRecord
from app.extensions import db
from app.newsletter.models import Subscriber, Subscription
from app.personal import keyed_hash
from tests.conftest import TEST_DATABASE_URL

FLASK = Path(sys.executable).parent / "flask"
ROOT = Path(__file__).resolve().parent.parent


def consent_records(count: int) -> None:
    """Some proof of cookie choices."""
    db.session.add_all(ConsentRecord(consent_id=f"c-{n}", choices={"analytics": n % 2 == 0}, register_version="1",
                                     action="custom", source="banner", channel="js") for n in range(count))
    db.session.commit()


def confirmed_subscribers(count: int) -> None:
    """Subscribers of the product news, confirmed."""
    now = datetime.now(UTC)
    for number in range(count):
        email = f"abonne{number}@example.com"
        subscriber = Subscriber(email=email, email_hash=keyed_hash(email), language="fr", email_status="confirmed",
                                email_consent_at=now, email_consent_source="double_opt_in")
        db.session.add(subscriber)
        db.session.flush()
        db.session.add(Subscription(subscriber_id=subscriber.id, list_slug="actualites-produit", status="active",
                                    requested_at=now, consented_at=now, consent_source="double_opt_in"))
    db.session.commit()


def run_on_a_terminal(*args: str) -> tuple[str, str]:
    """Run `flask ARGS` on the test database with standard error on a pseudo-terminal: (stdout, terminal)."""
    env = {**os.environ, "FLASK_APP": "wsgi:app", "DATABASE_URL": TEST_DATABASE_URL, "COLUMNS": "100"}
    controller, terminal = pty.openpty()
    seen: list[bytes] = []
    reader = threading.Thread(target=read_all, args=(controller, seen), daemon=True)
    reader.start()
    result = subprocess.run([str(FLASK), *args], cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=terminal, timeout=120, check=False)
    os.close(terminal)
    reader.join(timeout=10)
    os.close(controller)
    assert result.returncode == 0, b"".join(seen).decode(errors="replace")
    return result.stdout.decode(), b"".join(seen).decode(errors="replace")


def read_all(descriptor: int, into: list[bytes]) -> None:
    """Read a pseudo-terminal until its other end closes."""
    while True:
        try:
            chunk = os.read(descriptor, 4096)
        except OSError:
            return
        if not chunk:
            return
        into.append(chunk)


def test_consent_export_shows_its_progress_on_a_terminal(app, tmp_path):
    consent_records(250)
    output, terminal = run_on_a_terminal("consent", "export", "--output", str(tmp_path / "proof.csv"))
    assert "exporting consent records" in terminal and "250/250" in terminal and "/s" in terminal
    assert output == ""
    assert len((tmp_path / "proof.csv").read_text().splitlines()) == 251


def test_consent_export_is_quiet_when_not_on_a_terminal(app, runner):
    consent_records(5)
    result = runner.invoke(args=["consent", "export"])
    assert result.exit_code == 0
    assert "exporting" not in result.output and len(result.output.splitlines()) == 6


def test_newsletter_send_shows_its_progress_on_a_terminal(app, tmp_path):
    confirmed_subscribers(40)
    body = tmp_path / "body.txt"
    body.write_text("Bonjour,\n\nLes nouveautés du mois.\n", encoding="utf-8")
    output, terminal = run_on_a_terminal("newsletter", "send", "--list", "actualites-produit",
                                         "--subject", "Nouveautés", "--text", str(body))
    assert "queueing messages" in terminal and "40/40" in terminal  # one row per reader, bodies stored once
    assert "40 messages queued" in output


def test_newsletter_send_is_quiet_when_not_on_a_terminal(app, runner, tmp_path):
    confirmed_subscribers(3)
    body = tmp_path / "body.txt"
    body.write_text("Bonjour,\n", encoding="utf-8")
    result = runner.invoke(args=["newsletter", "send", "--list", "actualites-produit", "--subject", "Nouveautés",
                                 "--text", str(body)])
    assert result.exit_code == 0, result.output
    [line] = result.output.splitlines()  # the report alone: no progress bar when not on a terminal
    assert line.startswith("campaign ") and line.endswith(": 3 messages queued, 0 held back by the opt-out list")
