"""Mail that is never lost: an outbox table written in the caller's transaction, a delivery worker."""

from app.mail import datamap  # noqa: E402, F401  (registers the outbox in the data map)
