"""Median time of a wrong staff login for a known and for an unknown address (the account oracle of issue 10)."""

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("INSTANCE_PATH", tempfile.mkdtemp(prefix="kinv-bench-"))

from flask_migrate import upgrade  # noqa: E402

from app import create_app  # noqa: E402
from app.auth.services import create_staff  # noqa: E402
from app.config import TestingConfig  # noqa: E402
from tests.conftest import csrf_token  # noqa: E402

SAMPLES = 9  # under the 10 failures that lock the account


def wrong_login(client, email: str) -> float:
    """Milliseconds one wrong login takes (the form post only)."""
    token = csrf_token(client.get("/admin/connexion").get_data(as_text=True))
    start = time.perf_counter()
    client.post("/admin/connexion", data={"csrf_token": token, "email": email, "password": "wrong password"})
    return (time.perf_counter() - start) * 1000


def main() -> None:
    """Build a scratch SQLite site with one account, time wrong logins, print the medians."""
    config = TestingConfig()
    config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{tempfile.mkdtemp(prefix='kinv-bench-')}/bench.sqlite"
    config.RATELIMIT_ENABLED = False
    app = create_app(config)
    with app.app_context():
        upgrade(revision="heads")
        create_staff("agent@k-inventory.com", "correct horse battery staple", "agent")
    client = app.test_client()
    known = statistics.median(wrong_login(client, "agent@k-inventory.com") for _ in range(SAMPLES))
    unknown = statistics.median(wrong_login(client, "nobody@k-inventory.com") for _ in range(SAMPLES))
    print(f"wrong login, median of {SAMPLES}: known address {known:.0f} ms, unknown address {unknown:.0f} ms")


if __name__ == "__main__":
    main()
