"""The newsletter's SMS: proving a number with a code, what STOP/START/HELP do, and SMS campaigns of a list.

A number gets SMS consent only once its holder has shown it is theirs: the 6-digit code sent to it typed
back (source `sms_code`), or a START sent from it. An e-mail confirmation proves the address, never the number.
"""

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from app.database import UTCDateTime, new_public_id, utcnow
from app.extensions import db
from app.newsletter import events as ev
from app.newsletter.events import Source, Step
from app.newsletter.lists import is_list
from app.newsletter.models import Campaign, ChannelStatus, ListStatus, PhoneProof, Subscriber, Subscription
from app.newsletter.sms_budget import Visitor, codes_today, take_budget, tell_dpo_when_due, too_many_codes
from app.personal import keyed_hash
from app.policy.services import CONTROLLER_NAME, current_version_number
from app.sms.models import InboundSms, SmsKind, SmsMessage, SmsStatus
from app.sms.numbers import textable
from app.sms.segments import Segments, outside_gsm7, segments, sms_alphabet
from app.sms.services import first_slot, queue_sms
from app.sms.twilio import Keyword
from app.suppression.models import Channel, Reason
from app.suppression.services import lift, suppress, suppressed_clause, suppression_reasons
from app.urls import site_url

CODE_LIFETIME = timedelta(minutes=10)
MAX_TRIES = 5
START_WINDOW = timedelta(days=30)  # a START proves a number someone asked for within this time


class CodeCheck(StrEnum):
    """What typing a code did."""

    PROVEN = "proven"
    WRONG = "wrong"
    DEAD = "dead"  # unknown, expired, already used, or out of tries


def code_hash(proof_id: str, code: str) -> str:
    """The keyed hash a code is kept as (tied to its proof, so equal codes never share a hash)."""
    return keyed_hash(f"phone-proof:{proof_id}:{code}")


def start_proof(subscriber: Subscriber, phone: str, *, applies: bool, visitor: Visitor) -> PhoneProof | None:
    """Text a 6-digit code to the number (the caller commits); None when the number may not be texted, or the
    number, the visitor's network or today's budget had its share of codes."""
    hashed = keyed_hash(phone)
    if not textable(phone) or not take_budget() or too_many_codes(hashed, visitor) \
            or Reason.RESTRICTION in suppression_reasons(Channel.SMS, phone=phone):
        return None
    code, public_id, now = f"{secrets.randbelow(10 ** 6):06d}", new_public_id(), utcnow()
    if subscriber.id is None:
        db.session.flush()
    proof = PhoneProof(public_id=public_id, subscriber_id=subscriber.id, phone=phone, phone_hash=hashed,
                       code_hash=code_hash(public_id, code), applies=applies, ip_prefix=visitor.ip_prefix,
                       household=visitor.household, created_at=now, expires_at=now + CODE_LIFETIME, attempts=0)
    db.session.add(proof)
    queue_sms(phone, code_text(subscriber.language, code), kind=SmsKind.TRANSACTIONAL)
    tell_dpo_when_due(codes_today())
    return proof


def code_text(language: str, code: str) -> str:
    """The code SMS in the subscriber's language, in the SMS alphabet (one GSM-7 segment)."""
    with force_locale(language):
        return sms_alphabet(_("%(sender)s : votre code de vérification est %(code)s (valable 10 minutes). "
                              "Si vous n'avez rien demandé, ignorez ce message.",
                              sender=current_app.config["SMS_SENDER_NAME"], code=code))


def check_code(proof_id: str | None, code: str, ip_prefix: str | None = None) -> CodeCheck:
    """Compare a typed code with the proof's; a match proves the number (and gives consent if it applies); commits."""
    proof = db.session.scalar(sa.select(PhoneProof).where(PhoneProof.public_id == (proof_id or "")))
    if proof is None or proof.proven_at or proof.expires_at <= utcnow() or proof.attempts >= MAX_TRIES:
        return CodeCheck.DEAD
    proof.attempts += 1
    if not hmac.compare_digest(proof.code_hash, code_hash(proof.public_id, code.strip())):
        db.session.commit()
        return CodeCheck.WRONG if proof.attempts < MAX_TRIES else CodeCheck.DEAD
    proof.proven_at = utcnow()
    if proof.applies:
        consent_to_sms(db.session.get(Subscriber, proof.subscriber_id), proof.phone, Source.SMS_CODE, ip_prefix)
    db.session.commit()
    return CodeCheck.PROVEN


def consent_to_sms(subscriber: Subscriber, phone: str, source: str, ip_prefix: str | None = None) -> bool:
    """The holder of the number said yes: proven, consented (date, source, policy version), off the opt-out list."""
    if Reason.RESTRICTION in suppression_reasons(Channel.SMS, phone=phone):
        return False
    if lift(Channel.SMS, phone=phone, reason=Reason.OPT_OUT, source=source):
        ev.record_event(subscriber, Step.OPT_OUT_LIFTED, source=source, channel=Channel.SMS, ip_prefix=ip_prefix)
    now, version = utcnow(), current_version_number()
    subscriber.phone, subscriber.phone_hash, subscriber.pending_phone = phone, keyed_hash(phone), None
    subscriber.sms_status, subscriber.sms_consent_at = ChannelStatus.CONFIRMED, now
    subscriber.sms_consent_source = source
    subscriber.sms_consent_policy, subscriber.sms_proven_at, subscriber.sms_proof_source = version, now, source
    subscriber.sms_opted_out_at = subscriber.sms_opt_out_source = None
    ev.record_event(subscriber, Step.SMS_START if source == Source.SMS_REPLY else Step.CONFIRMED, source=source,
                    channel=Channel.SMS, ip_prefix=ip_prefix, policy_version=version)
    return True


def already_handled(message_sid: str, phone_hash: str | None, kind: Keyword | None) -> bool:
    """Record an inbound MessageSid; True when it was handled before (a replay), which then changes nothing."""
    if db.session.scalar(sa.select(InboundSms.id).where(InboundSms.message_sid == message_sid)) is not None:
        return True
    try:
        with db.session.begin_nested():
            db.session.add(InboundSms(message_sid=message_sid, phone_hash=phone_hash, keyword=kind))
    except IntegrityError:  # the same request handled at the same moment by another worker
        return True
    return False


def stop_number(phone: str) -> None:
    """A STOP from a number: on the SMS opt-out list at once (the listener turns its subscribers off); commits."""
    suppress(Channel.SMS, phone=phone, source=Source.SMS_REPLY)
    db.session.commit()


def start_number(phone: str) -> bool:
    """A START from a number someone asked SMS for (or that said STOP): proven and consented from the phone; commits."""
    since = utcnow() - START_WINDOW
    asked = set(db.session.scalars(sa.select(PhoneProof.subscriber_id).where(
        PhoneProof.phone_hash == keyed_hash(phone), PhoneProof.applies.is_(True), PhoneProof.created_at >= since)))
    waiting = list(db.session.scalars(sa.select(Subscriber).where(sa.or_(
        Subscriber.id.in_(asked),
        sa.and_(Subscriber.phone == phone, Subscriber.sms_status.in_([ChannelStatus.PENDING,
                                                                       ChannelStatus.UNSUBSCRIBED]))))))
    started = [s for s in waiting if s.sms_status != ChannelStatus.CONFIRMED or s.phone != phone]
    done = [consent_to_sms(subscriber, phone, Source.SMS_REPLY) for subscriber in started]
    db.session.commit()
    return any(done)


def help_reply() -> str:
    """The answer to HELP: who we are and where to write."""
    return sms_alphabet(_("%(sender)s (%(company)s) : vos questions sur %(url)s. Répondez STOP pour ne plus "
                          "recevoir nos SMS.", sender=current_app.config["SMS_SENDER_NAME"],
                          company=CONTROLLER_NAME, url=site_url("rights.contact", lang="fr")))


# --- SMS campaigns -------------------------------------------------------------------------------------------

class SmsCampaignError(ValueError):
    """A send that cannot be made (unknown list, empty text, no number to reply STOP to)."""


@dataclass
class SmsCampaignReport:
    """What an SMS send queued, and when it may first leave."""

    campaign_id: int
    queued: int
    suppressed: int
    first_slot: object


def sms_members(slug: str) -> sa.Select:
    """Subscribers of the list whose number is proven and SMS consented (before the opt-out list)."""
    return (sa.select(Subscriber.phone)
            .join(Subscription, Subscription.subscriber_id == Subscriber.id)
            .where(Subscription.list_slug == slug, Subscription.status == ListStatus.ACTIVE,
                   Subscriber.sms_status == ChannelStatus.CONFIRMED, Subscriber.sms_proven_at.is_not(None),
                   Subscriber.phone.is_not(None)))


def sms_audience(slug: str) -> sa.Select:
    """Who receives an SMS campaign of the list: members whose number is not on the SMS opt-out list."""
    return sms_members(slug).where(~suppressed_clause(Channel.SMS, Subscriber.phone_hash))


def marketing_text(text: str) -> str:
    """A commercial SMS as sent: the sender named first, the opt-out wording last (« STOP au … »)."""
    config = current_app.config
    if not config["SMS_STOP_NUMBER"]:
        raise SmsCampaignError("set SMS_STOP_NUMBER (or TWILIO_FROM): the number people reply STOP to")
    return f"{config['SMS_SENDER_NAME']} : {text.strip()}\nSTOP au {config['SMS_STOP_NUMBER']}"


@dataclass(frozen=True)
class SmsCost:
    """How each SMS of a campaign is billed, and the characters that keep it out of GSM-7."""

    segments: Segments
    outside: str


def campaign_segments(text: str) -> SmsCost:
    """What one SMS of a campaign with this text costs, as sent (sender's name and STOP wording included)."""
    body = marketing_text(text)
    return SmsCost(segments(body), outside_gsm7(body))


def send_sms_campaign(slug: str, text: str) -> SmsCampaignReport:
    """Queue one SMS per proven, consenting member of the list, set-based, for the next allowed slot; commits."""
    if not is_list(slug):
        raise SmsCampaignError(f"unknown list {slug!r}")
    if not text.strip():
        raise SmsCampaignError("the text is empty")
    body, slot = marketing_text(text), first_slot()
    campaign = Campaign(list_slug=slug, subject=text.strip().splitlines()[0][:300], channel="sms")
    db.session.add(campaign)
    db.session.flush()
    columns = ("created_at", "kind", "list_slug", "campaign_id", "recipient", "body", "status", "attempts",
               "next_attempt_at")
    rows = sms_audience(slug).with_only_columns(
        sa.literal(utcnow(), UTCDateTime), sa.literal(SmsKind.MARKETING.value), sa.literal(slug),
        sa.literal(campaign.id), Subscriber.phone, sa.literal(body, sa.Text), sa.literal(SmsStatus.PENDING.value),
        sa.literal(0), sa.literal(slot, UTCDateTime), maintain_column_froms=True)
    db.session.execute(sa.insert(SmsMessage.__table__).from_select(columns, rows))
    queued = db.session.scalar(sa.select(sa.func.count()).where(SmsMessage.campaign_id == campaign.id)) or 0
    campaign.recipients = queued
    campaign.suppressed = count_rows(sms_members(slug)) - queued
    db.session.commit()
    return SmsCampaignReport(campaign.id, queued, campaign.suppressed, slot)


def count_rows(query: sa.Select) -> int:
    """The number of rows a query returns."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0


# --- Inbound messages ----------------------------------------------------------------------------------------

# Replies in the SMS alphabet (GSM-7, one segment): French typography's no-break spaces and ’ would make them UCS-2.
STOP_REPLY = ("K-Inventory : votre désinscription est enregistrée, vous ne recevrez plus nos SMS. "
              "Pour vous réinscrire, répondez START.")
START_REPLY = "K-Inventory : vous recevez de nouveau nos SMS. Pour ne plus les recevoir, répondez STOP."


def handle_inbound(message_sid: str, phone: str, kind: Keyword | None) -> str | None:
    """Act once on an inbound message (a replayed MessageSid changes nothing); the reply to send, if any; commits."""
    if already_handled(message_sid, keyed_hash(phone), kind):
        db.session.rollback()
        return None
    reply = None
    if kind == Keyword.STOP:
        stop_number(phone)
        reply = STOP_REPLY
    elif kind == Keyword.START:
        reply = START_REPLY if start_number(phone) else None
    elif kind == Keyword.HELP:
        reply = help_reply()
    db.session.commit()
    return reply


# --- What the preference centre and the back-office show ----------------------------------------------------

@dataclass(frozen=True)
class SmsState:
    """One subscriber's SMS channel: the number, whether and how it was proven, consented, opted out."""

    email: str | None
    phone: str | None
    status: str
    proven_at: object
    proof_source: str | None
    consented_at: object
    consent_source: str | None
    consent_policy: int | None
    opted_out_at: object
    opt_out_source: str | None
    on_opt_out_list: bool


def sms_state(subscriber: Subscriber) -> SmsState:
    """The SMS channel of one subscriber as the pages show it."""
    listed = bool(subscriber.phone) and bool(suppression_reasons(Channel.SMS, phone=subscriber.phone))
    return SmsState(subscriber.email, subscriber.phone, subscriber.sms_status, subscriber.sms_proven_at,
                    subscriber.sms_proof_source, subscriber.sms_consent_at, subscriber.sms_consent_source,
                    subscriber.sms_consent_policy, subscriber.sms_opted_out_at, subscriber.sms_opt_out_source, listed)


def sms_states_of(email: str | None, phone: str | None) -> list[SmsState]:
    """The SMS channel of every subscriber with this address or number (for the back-office)."""
    conditions = [Subscriber.email == email] if email else []
    if phone:
        conditions.append(Subscriber.phone == phone)
    if not conditions:
        return []
    return [sms_state(s) for s in db.session.scalars(sa.select(Subscriber).where(sa.or_(*conditions))
                                                     .order_by(Subscriber.id))]
