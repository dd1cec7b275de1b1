"""Prometheus metrics at `/metrics`: requests and latency per endpoint, the outbox, consent choices, and the workers
whose rate limits fell back to memory.

Under gunicorn every worker counts its own requests; with PROMETHEUS_MULTIPROC_DIR set (gunicorn.conf.py sets it),
prometheus_client keeps them in files there and `/metrics` adds up every worker's. The outbox and consent figures are
read from the database when Prometheus scrapes, so every worker answers the same.
"""

import hmac
import ipaddress
import logging
import os
import time
from datetime import timedelta
from functools import lru_cache

import sqlalchemy as sa
from flask import Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from app.backoffice.stats import count_consent_weeks
from app.consent.services import current_register
from app.database import utcnow
from app.extensions import db, limiter
from app.mail.models import OutboxMessage, OutboxStatus
from app.ops import bp

REQUESTS = Counter("kinv_http_requests_total", "HTTP requests answered, by endpoint, method and status.",
                   ["endpoint", "method", "status"])
LATENCY = Histogram("kinv_http_request_duration_seconds", "Time to answer a request, by endpoint.",
                    ["endpoint", "method"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))


RATELIMIT_IN_MEMORY = Gauge("kinv_ratelimit_in_memory", "Workers counting rate limits in their own memory, the shared "
                            "storage (Redis) being unreachable: limits then apply per worker.",
                            multiprocess_mode="livesum")


class LimiterWatch(logging.Handler):
    """Reads Flask-Limiter's two notes (storage unreachable, storage recovered) into RATELIMIT_IN_MEMORY."""

    def emit(self, record: logging.LogRecord) -> None:
        """Set the gauge from the note."""
        message = record.getMessage()
        if "falling back to in-memory" in message:
            RATELIMIT_IN_MEMORY.set(1)
        elif "storage recovered" in message:
            RATELIMIT_IN_MEMORY.set(0)


LIMITER_WATCH = LimiterWatch()


def start_timer() -> None:
    """Note when the request began."""
    g.metrics_started = time.perf_counter()


# The methods counted by name; any other a client sends is counted as "other" (no label made up by a client).
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def count_request(response):
    """Count the request under its endpoint (the route's name, never its URL, so no token is ever a label)."""
    started, asked = g.pop("metrics_started", None), request._get_current_object()
    endpoint = asked.url_rule.endpoint if asked.url_rule else "unmatched"
    if started is not None and endpoint != "ops.metrics":
        method = asked.method if asked.method in METHODS else "other"
        observe(endpoint, method, response.status_code, time.perf_counter() - started)
    return response


def observe(endpoint: str, method: str, status: int, seconds: float) -> None:
    """One request more in its series, and its time."""
    count, latency = series(endpoint, method, status)
    count.inc()
    latency.observe(seconds)


@lru_cache(maxsize=1024)
def series(endpoint: str, method: str, status: int) -> tuple:
    """The request counter and latency histogram of one endpoint, method and status (looked up once)."""
    return REQUESTS.labels(endpoint, method, str(status)), LATENCY.labels(endpoint, method)


class DatabaseCollector:
    """Figures read at scrape time: outbox messages by status, the oldest pending one, consent choices this week."""

    def collect(self):
        """Yield the gauges (nothing when the database does not answer: /readyz says so)."""
        try:
            yield from self.outbox()
            yield from self.consent()
        except sa.exc.SQLAlchemyError:
            db.session.rollback()

    def outbox(self):
        """Messages waiting, failed, sent, cancelled."""
        counts = dict(db.session.execute(sa.select(OutboxMessage.status, sa.func.count()).group_by(
            OutboxMessage.status)).all())
        gauge = GaugeMetricFamily("kinv_outbox_messages", "Outbox messages by status.", labels=["status"])
        for status in OutboxStatus:
            gauge.add_metric([status.value], counts.get(status.value, 0))
        yield gauge

    def consent(self):
        """Cookie choices of the last 7 days: accepted and refused per optional category, and GPC signals."""
        keys = [category.key for category in current_register().optional]
        # SQLite counts weeks from `since` cut to the second: the last second's choices may fall in a second week
        weeks = count_consent_weeks(utcnow() - timedelta(days=7), None, keys).values()
        week = {name: sum(counts[name] for counts in weeks) for name in ("choices", "gpc", *keys)}
        gauge = GaugeMetricFamily("kinv_consent_choices_last_7_days", "Cookie choices recorded in the last 7 days, "
                                  "by category and answer (GPC signals apart).", labels=["category", "answer"])
        for key in keys:
            gauge.add_metric([key, "accepted"], week.get(key, 0))
            gauge.add_metric([key, "refused"], week.get("choices", 0) - week.get(key, 0))
        gauge.add_metric(["gpc", "signal"], week.get("gpc", 0))
        yield gauge


def allowed() -> bool:
    """A scraper with the bearer token METRICS_TOKEN, or from an address of METRICS_ALLOWED_IPS."""
    token = current_app.config["METRICS_TOKEN"]
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if token and given and hmac.compare_digest(given.encode(), token.encode()):
        return True
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in network for network in current_app.config["METRICS_ALLOWED_NETWORKS"])


def exposition() -> bytes:
    """Every worker's request metrics (multiprocess mode) or this process's, then the database's figures."""
    requests = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        requests = CollectorRegistry()
        MultiProcessCollector(requests)
    figures = CollectorRegistry()
    figures.register(DatabaseCollector())
    return generate_latest(requests) + generate_latest(figures)


def allowed_networks(setting: str) -> list:
    """METRICS_ALLOWED_IPS as networks (`10.0.0.0/8`, or single addresses); a bad value stops the start."""
    return [ipaddress.ip_network(part.strip(), strict=False) for part in setting.split(",") if part.strip()]


def init_app(app) -> None:
    """Time and count every request; read who may scrape."""
    app.config["METRICS_ALLOWED_NETWORKS"] = allowed_networks(app.config["METRICS_ALLOWED_IPS"])
    app.before_request(start_timer)
    app.after_request(count_request)
    limiter_log = logging.getLogger("flask-limiter")
    if LIMITER_WATCH not in limiter_log.handlers:
        limiter_log.addHandler(LIMITER_WATCH)


@bp.route("/metrics")
@limiter.exempt
def metrics():
    """Prometheus' text format, for allowed scrapers only (403 for anyone else)."""
    if not allowed():
        abort(403)
    return Response(exposition(), mimetype=CONTENT_TYPE_LATEST)
