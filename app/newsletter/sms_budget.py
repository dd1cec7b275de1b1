"""What anonymous visitors can make the site spend on verification codes: a few per number and per network an hour,
and SMS_DAILY_BUDGET a day for everyone together (Paris day), the dpo told at 80 % and 100 % of it.

Networks: an IPv4 /24; an IPv6 /64 (a household) and its /48 (a site), so a visitor rotating addresses or
prefixes gains little; a client address that is no IP address at all (a proxy writing « unknown ») shares one
small allowance with every other such request.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from app.database import utcnow
from app.extensions import db
from app.newsletter.mail import mail_dpos
from app.newsletter.models import PhoneProof
from app.personal import ip_networks, keyed_hash, truncate_ip
from app.sms.schedule import PARIS

CODES_PER_NUMBER_PER_HOUR = 3
CODES_PER_HOUSEHOLD_PER_HOUR = 5  # an IPv6 /64
CODES_PER_NETWORK_PER_HOUR = 10  # an IPv4 /24 or an IPv6 /48
CODES_PER_HOUR_WITHOUT_ADDRESS = 3  # every request whose client address is not an IP address, together
NO_ADDRESS = "no-address"
ALERT_SHARES = (80, 100)  # per cent of the budget at which the dpo is mailed


@dataclass(frozen=True)
class Visitor:
    """Where a request for a code comes from, as the limits count it (never the full address)."""

    ip_prefix: str | None  # the IPv4 /24 or IPv6 /48, kept in the subscriber's history
    household: str | None  # keyed hash of the IPv6 /64, or NO_ADDRESS

    @classmethod
    def of(cls, address: str | None) -> "Visitor":
        """The visitor behind a client address."""
        networks = ip_networks(address)
        if not networks:
            return cls(None, NO_ADDRESS)
        return cls(truncate_ip(address), keyed_hash(f"ip:{networks[0]}") if len(networks) > 1 else None)


def day_start(now: datetime) -> datetime:
    """Midnight of the Paris day `now` falls in, in UTC."""
    return datetime.combine(now.astimezone(PARIS).date(), time(0), PARIS).astimezone(UTC)


def codes_today() -> int:
    """Codes texted since midnight, Paris time."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(PhoneProof).where(
        PhoneProof.created_at >= day_start(utcnow()))) or 0


def budget() -> int:
    """Codes the site texts a day at most."""
    return current_app.config["SMS_DAILY_BUDGET"]


def paused() -> bool:
    """Whether today's budget is spent (SMS verification waits for tomorrow)."""
    return codes_today() >= budget()


@dataclass(frozen=True)
class BudgetDay:
    """Today's codes against the budget, for the dashboard."""

    sent: int
    budget: int

    @property
    def paused(self) -> bool:
        """Whether the budget is spent."""
        return self.sent >= self.budget


def today() -> BudgetDay:
    """Codes texted today and the daily budget."""
    return BudgetDay(codes_today(), budget())


def take_budget() -> bool:
    """Take the budget lock until commit, then whether one more code may go out today (the caller commits)."""
    if db.session.get_bind().dialect.name == "postgresql":  # two requests at once must not both take the last code
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext("sms-code-budget"))))
    return not paused()


def too_many_codes(phone_hash: str, visitor: Visitor) -> bool:
    """Whether the number, the visitor's household or network, or the address-less, had their share this hour."""
    recent = sa.select(sa.func.count()).select_from(PhoneProof).where(
        PhoneProof.created_at >= utcnow() - timedelta(hours=1))
    household_cap = CODES_PER_HOUR_WITHOUT_ADDRESS if visitor.household == NO_ADDRESS else CODES_PER_HOUSEHOLD_PER_HOUR
    checks = [(PhoneProof.phone_hash, phone_hash, CODES_PER_NUMBER_PER_HOUR),
              (PhoneProof.ip_prefix, visitor.ip_prefix, CODES_PER_NETWORK_PER_HOUR),
              (PhoneProof.household, visitor.household, household_cap)]
    return any(db.session.scalar(recent.where(column == value)) >= cap for column, value, cap in checks
               if value is not None)


def tell_dpo_when_due(sent: int) -> None:
    """After the `sent`-th code of the day: mail the dpo when it reaches 80 % or 100 % of the budget."""
    reached = [share for share in ALERT_SHARES if sent == -(-budget() * share // 100)]
    if not reached:
        return
    with force_locale("fr"):
        subject = _("Budget SMS du jour\u00a0: %(share)s\u00a0%% atteint", share=reached[-1])
    mail_dpos(subject, "sms_budget", share=reached[-1], sent=sent, budget=budget())
