"""Several workers share nothing but the database and Redis: rate limits hold across processes."""

import os

import redis

from app.extensions import limiter

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")


def limited_app(make_app):
    """An app instance (one "worker") with a 2-per-minute route, limits stored in Redis."""
    app = make_app(RATELIMIT_STORAGE_URI=REDIS_URL)

    @app.get("/limite-partagee")
    @limiter.limit("2/minute")
    def shared_limit():
        return "ok"

    return app


def test_rate_limits_are_shared_through_redis(make_app):
    redis.Redis.from_url(REDIS_URL).flushdb()
    first_worker, second_worker = limited_app(make_app), limited_app(make_app)
    assert first_worker.test_client().get("/limite-partagee").status_code == 200
    assert second_worker.test_client().get("/limite-partagee").status_code == 200
    assert first_worker.test_client().get("/limite-partagee").status_code == 429
    redis.Redis.from_url(REDIS_URL).flushdb()


def test_session_signed_by_one_worker_is_read_by_another(make_app):
    first_worker, second_worker = make_app(), make_app()

    @first_worker.get("/ecrire-session")
    def write():
        from flask import session

        session["langue"] = "fr"
        return "ok"

    @second_worker.get("/lire-session")
    def read():
        from flask import session

        return session.get("langue", "vide")

    client = first_worker.test_client()
    client.get("/ecrire-session")
    cookie = client.get_cookie("session")
    other = second_worker.test_client()
    other.set_cookie("session", cookie.value)
    assert other.get("/lire-session").get_data(as_text=True) == "fr"
