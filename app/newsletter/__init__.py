"""Newsletter and SMS marketing: double opt-in, one-click unsubscribe, STOP by SMS, the preference centre."""

from flask import Blueprint

bp = Blueprint("newsletter", __name__)

from app import suppression  # noqa: E402, F401  (the opt-out list every send checks)
from app.newsletter import datamap, routes  # noqa: E402, F401
from app.newsletter.optout import follow_suppression  # noqa: E402
from app.newsletter.services import confirmed_addresses  # noqa: E402
from app.policy.services import NOTICE_RECIPIENT_SOURCES  # noqa: E402
from app.suppression.services import SUPPRESSION_LISTENERS  # noqa: E402

if confirmed_addresses not in NOTICE_RECIPIENT_SOURCES:
    NOTICE_RECIPIENT_SOURCES.append(confirmed_addresses)
if follow_suppression not in SUPPRESSION_LISTENERS:
    SUPPRESSION_LISTENERS.append(follow_suppression)
