"""Benchmark: the outbox worker against a plain `smtplib` loop over one connection, same messages, same sink.

A discarding SMTP server (aiosmtpd's Sink) runs in its own process on loopback. MESSAGES marketing messages are
queued in a scratch SQLite database (or `--database-url`); then, alternating ROUNDS times: the plain loop sends the
already-built bytes of every message over one connection, and `deliver_due()` drains the outbox (rows put back to
pending between rounds). Once without DKIM, once with DKIM signing (a fresh 2048-bit key), once with both signatures
(RSA-2048 then Ed25519); then what one signature costs, by dkimpy as published, with each key alone over one of the
messages. Medians are printed; the bench fails when the worker without DKIM delivers under half the plain loop's rate.
Usage: `.venv/bin/python bench/outbox_send.py [--messages N] [--rounds R] [--database-url URL]`.
"""

import argparse
import os
import secrets
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SCRATCH = Path(tempfile.mkdtemp(prefix="kinv-bench-outbox-"))
os.environ.setdefault("INSTANCE_PATH", str(SCRATCH))
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(48))
os.environ.setdefault("HASH_KEY", secrets.token_urlsafe(48))

import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from app import create_app  # noqa: E402
from app.config import Config  # noqa: E402
from app.extensions import db  # noqa: E402
from app.mail.models import OutboxMessage, OutboxStatus  # noqa: E402
from app.mail.services import deliver_due, queue_mail  # noqa: E402
from app.mail.signing import ED25519, RSA, DkimKey, DkimSigner, generate_key, read_key  # noqa: E402

SENDER = "K-Inventory <no-reply@k-inventory.com>"
TEXT = "Bonjour,\n\n" + "Voici les nouveautés de K-Inventory ce mois-ci.\n" * 20
HTML = ("<html><body><h1>Nouveautés</h1>" + "<p>Voici les nouveautés de K-Inventory ce mois-ci.</p>" * 20
        + "</body></html>")
MIN_RATIO = 0.5
SIGNATURES = 200  # signatures timed per key


def free_port() -> int:
    """A loopback TCP port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_sink() -> tuple[subprocess.Popen, int]:
    """aiosmtpd's discarding Sink in its own process; returns it once it answers."""
    port = free_port()
    sink = subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink",
                             "-l", f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            smtplib.SMTP("127.0.0.1", port, timeout=2).quit()
            return sink, port
        except OSError:
            time.sleep(0.1)
    sink.kill()
    raise RuntimeError("the SMTP sink did not start")


def bench_app(url: str, port: int, dkim_key: Path | None = None, ed_key: Path | None = None):
    """The app on the scratch database, sending to the sink (signing when given a key, twice when given two)."""
    config = Config()
    config.SQLALCHEMY_DATABASE_URI = url
    config.SITE_URL = "https://www.k-inventory.com"
    config.MAIL_SERVER, config.MAIL_PORT, config.MAIL_DEFAULT_SENDER = "127.0.0.1", port, SENDER
    if dkim_key:
        config.DKIM_SIGNING, config.DKIM_DOMAIN, config.DKIM_SELECTOR = "app", "k-inventory.com", "bench"
        config.DKIM_PRIVATE_KEY_FILE = str(dkim_key)
    if ed_key:
        config.DKIM_ED25519_SELECTOR, config.DKIM_ED25519_PRIVATE_KEY_FILE = "bench-ed", str(ed_key)
    return create_app(config)


def queue(count: int) -> None:
    """COUNT marketing messages with their List-Unsubscribe headers (in an outbox emptied of earlier runs')."""
    db.session.execute(sa.delete(OutboxMessage))
    for number in range(count):
        link = f"https://www.k-inventory.com/newsletter/desabonnement/bench{number}"
        queue_mail(f"abonne{number}@example.com", "Nouveautés de novembre", TEXT, HTML, kind="marketing",
                   list_slug="actualites-produit", headers={
                       "List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                       "List-Id": "K-Inventory Actualites produit <actualites-produit.www.k-inventory.com>"})
    db.session.commit()


def built_messages() -> list[tuple[str, bytes]]:
    """Every queued message's recipient and bytes, as the worker writes them (built before the plain loop)."""
    from app.mail.compose import render_email

    rows = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id))
    return [(row.recipient, render_email(row, SENDER)) for row in rows]


def plain_loop(port: int, messages: list[tuple[str, bytes]]) -> float:
    """Messages a second of smtplib sending the built bytes over one connection."""
    started = time.perf_counter()
    connection = smtplib.SMTP("127.0.0.1", port)
    for recipient, data in messages:
        connection.sendmail("no-reply@k-inventory.com", [recipient], data)
    connection.quit()
    return len(messages) / (time.perf_counter() - started)


def worker_pass(count: int) -> float:
    """Messages a second of one `deliver_due()` call draining the outbox (every row put back to pending first)."""
    db.session.execute(sa.update(OutboxMessage).values(status=OutboxStatus.PENDING, attempts=0, sent_at=None))
    db.session.commit()
    started = time.perf_counter()
    report = deliver_due()
    elapsed = time.perf_counter() - started
    assert report.sent == count, report
    return count / elapsed


def signature_ms(signer: DkimSigner, data: bytes) -> float:
    """Median milliseconds of one `signer.sign` over the message's bytes (dkimpy: canonicalise, hash, sign)."""
    times = []
    for _ in range(SIGNATURES):
        started = time.perf_counter()
        signer.sign(data)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def print_signature_costs(rsa_key: Path, ed_key: Path, data: bytes) -> None:
    """What one DKIM signature costs with each key alone, and the ceiling it puts on one worker."""
    print(f"  one DKIM signature of a {len(data):,}-byte message, dkimpy as published, median of {SIGNATURES}:")
    for name, path, algorithm in (("rsa-sha256, RSA-2048", rsa_key, RSA), ("ed25519-sha256", ed_key, ED25519)):
        signer = DkimSigner("k-inventory.com", (DkimKey("bench", algorithm, read_key(path, name, algorithm)),))
        cost = signature_ms(signer, data)
        print(f"    {name:<32}{cost:7.2f} ms  (at most {1000 / cost:,.0f} signatures/s on one core)")


def run(url: str, port: int, count: int, rounds: int) -> bool:
    """Every case, alternated; print medians; whether the worker without DKIM reaches half the plain rate."""
    key, ed_key = SCRATCH / "dkim-bench.pem", SCRATCH / "dkim-bench-ed.pem"
    generate_key(key)
    generate_key(ed_key, "ed25519")
    apps = {"outbox worker, no DKIM": bench_app(url, port), "outbox worker, DKIM RSA-2048": bench_app(url, port, key),
            "outbox worker, DKIM RSA + Ed25519": bench_app(url, port, key, ed_key)}
    plain, rates = [], {name: [] for name in apps}
    with apps["outbox worker, no DKIM"].app_context():
        upgrade(directory=str(ROOT / "migrations"), revision="heads")
        queue(count)
        messages = built_messages()
    for _ in range(rounds):
        plain.append(plain_loop(port, messages))
        for name, app in apps.items():
            with app.app_context():
                rates[name].append(worker_pass(count))
    base = statistics.median(plain)
    print(f"{count} messages of {len(messages[0][1]):,} bytes, {rounds} rounds alternated, medians "
          f"({url.split(':')[0]})")
    print(f"  plain smtplib loop, one connection: {base:7.0f} messages/s")
    for name, runs in rates.items():
        rate = statistics.median(runs)
        print(f"  {name:<34}{rate:7.0f} messages/s  = {rate / base:.2f}x plain  (runs {[round(r) for r in runs]})")
    print_signature_costs(key, ed_key, messages[0][1])
    return statistics.median(rates["outbox worker, no DKIM"]) >= MIN_RATIO * base


def main() -> int:
    """Start the sink, run the bench, stop the sink."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", default=f"sqlite:///{SCRATCH / 'bench.sqlite'}")
    args = parser.parse_args()
    sink, port = start_sink()
    try:
        ok = run(args.database_url, port, args.messages, args.rounds)
    finally:
        sink.terminate()
        sink.wait(timeout=10)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
