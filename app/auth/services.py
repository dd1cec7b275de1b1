"""Staff accounts: create and manage them, check passwords in constant time, warn the owner of repeated failures,
the TOTP second factor and its recovery codes, and the session token that ends every session when rotated."""

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

import pyotp
import sqlalchemy as sa
from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup
from werkzeug.security import check_password_hash, generate_password_hash

from app.auth.models import RecoveryCode, Role, StaffUser
from app.database import utcnow
from app.extensions import db
from app.mail.services import queue_mail
from app.personal import keyed_hash, normalise_email

MIN_PASSWORD_LENGTH = 12
MIN_PASSWORD_SCORE = 3  # zxcvbn: 3 "safely unguessable", 4 "very unguessable"
NOTIFY_AFTER, NOTIFY_EVERY = 5, 100  # failures in a row before the owner is mailed, then again every 100
SIX_DIGITS = re.compile(r"[0-9]{6}")  # ASCII only: str.isdigit() also takes Arabic-Indic or full-width digits
RECOVERY_CODE_COUNT = 10
TOTP_ISSUER = "K-Inventory"


@cache
def dummy_hash() -> str:
    """Checked when the address is unknown, so a wrong address costs as long as a wrong password (no account
    oracle); made at the first login, not at import (scrypt takes 32 MB and a tenth of a second)."""
    return generate_password_hash(secrets.token_urlsafe(16))


class StaffError(ValueError):
    """A staff account that cannot be created or changed as asked; the message says why (in French)."""


def load_user(user_id: str) -> StaffUser | None:
    """The staff member of a session, if active and the session's token is still theirs (Flask-Login's loader)."""
    account, _sep, token = user_id.partition(":")
    user = db.session.get(StaffUser, int(account)) if account.isdigit() else None
    if user is None or not user.active or not hmac.compare_digest(token, user.session_token):
        return None
    return user


def password_problem(password: str, email: str = "") -> str | None:
    """Why a password is refused (in French), or None: at least 12 characters and a zxcvbn score of 3."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return _("Le mot de passe doit compter au moins %(count)d caractères.", count=MIN_PASSWORD_LENGTH)
    from zxcvbn import zxcvbn  # 13 MB of dictionaries, loaded only when a password is set, not in every worker

    score = zxcvbn(password[:100], user_inputs=[email, *email.split("@"), "k-inventory", "kinventory"])["score"]
    if score < MIN_PASSWORD_SCORE:
        return _("Ce mot de passe se devine trop facilement (force %(score)d sur 4, il faut au moins 3)\u202f: "
                 "évitez les mots courants, les prénoms, les dates, les suites de clavier et les répétitions. "
                 "Une phrase de quatre ou cinq mots sans lien entre eux convient.", score=score)
    return None


def find_staff(email: str) -> StaffUser | None:
    """The account with this address."""
    return db.session.scalar(sa.select(StaffUser).where(StaffUser.email == normalise_email(email)))


def staff_or_error(email: str) -> StaffUser:
    """The account with this address, or StaffError."""
    user = find_staff(email)
    if user is None:
        raise StaffError(_("Aucun compte pour %(email)s.", email=normalise_email(email)))
    return user


def create_staff(email: str, password: str, role: str) -> StaffUser:
    """A new staff account with a TOTP secret to enrol (the caller prints its URI); commits."""
    email = normalise_email(email)
    if role not in tuple(Role):
        raise StaffError(_("Le rôle doit être l’un de %(roles)s.", roles=", ".join(Role)))
    if "@" not in email:
        raise StaffError(_("Une adresse e-mail est nécessaire."))
    problem = password_problem(password, email)
    if problem:
        raise StaffError(problem)
    if find_staff(email):
        raise StaffError(_("%(email)s a déjà un compte.", email=email))
    user = StaffUser(email=email, role=Role(role), totp_secret=pyotp.random_base32())
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def change_password(email: str, password: str) -> StaffUser:
    """A new password; every session of the account ends; commits."""
    user = staff_or_error(email)
    problem = password_problem(password, user.email)
    if problem:
        raise StaffError(problem)
    user.set_password(password)
    db.session.commit()
    return user


def change_role(email: str, role: str) -> StaffUser:
    """A new role; every session of the account ends (its rights changed); commits."""
    user = staff_or_error(email)
    user.role = Role(role)
    user.rotate_session()
    db.session.commit()
    return user


def deactivate(email: str) -> StaffUser:
    """The account can no longer log in; every session ends; commits."""
    user = staff_or_error(email)
    user.active = False
    user.rotate_session()
    db.session.commit()
    return user


def activate(email: str) -> StaffUser:
    """A deactivated account may log in again; commits."""
    user = staff_or_error(email)
    user.active = True
    db.session.commit()
    return user


def reset_second_factor(email: str) -> StaffUser:
    """A new TOTP secret to enrol at the next login, recovery codes gone, sessions ended; commits."""
    user = staff_or_error(email)
    user.totp_secret, user.totp_enrolled_at, user.last_totp_step = pyotp.random_base32(), None, None
    user.recovery_codes.clear()
    user.rotate_session()
    db.session.commit()
    return user


def all_staff() -> list[StaffUser]:
    """Every account, by address."""
    return list(db.session.scalars(sa.select(StaffUser).order_by(StaffUser.email)))


def active_staff_addresses() -> list[str]:
    """Every active staff member's address."""
    return list(db.session.scalars(sa.select(StaffUser.email).where(StaffUser.active.is_(True))))


def dpo_addresses() -> list[str]:
    """Every active dpo's address."""
    return list(db.session.scalars(sa.select(StaffUser.email).where(
        StaffUser.role == Role.DPO, StaffUser.active.is_(True))))


def check_password(email: str, password: str, ip_prefix: str | None) -> StaffUser | None:
    """The active account with these credentials, or None; the same work and answer for any wrong part.

    A hash is always computed (a dummy one for an unknown address). A failure never locks the account: the client
    is slowed down by the login route's limits; the owner is told after repeated failures.
    """
    user = find_staff(email)
    matches = check_password_hash(user.password_hash if user else dummy_hash(), password)
    if user is None or not user.active:
        return None
    if not matches:
        record_failure(user, ip_prefix)
        return None
    return user


def record_failure(user: StaffUser, ip_prefix: str | None) -> None:
    """One more failure in a row (password or code), counted by the database itself; its owner is mailed at the
    5th and every 100th after; commits."""
    count = db.session.scalar(sa.update(StaffUser).where(StaffUser.id == user.id).values(
        failed_logins=StaffUser.failed_logins + 1).returning(StaffUser.failed_logins))
    if count is not None and (count == NOTIFY_AFTER or count % NOTIFY_EVERY == 0):
        tell_owner(user, count, ip_prefix)
    db.session.commit()


def tell_owner(user: StaffUser, count: int, ip_prefix: str | None) -> None:
    """Mail the account's owner that logins fail (when, how many, from which network); the caller commits."""
    with force_locale("fr"):
        subject = _("Échecs de connexion sur votre compte K-Inventory")
        text = render_template("auth/mail/failures.txt", count=count, when=utcnow(), network=ip_prefix)
    queue_mail(user.email, subject, text, kind="staff")


def totp_of(user: StaffUser) -> pyotp.TOTP:
    """The account's TOTP generator."""
    return pyotp.TOTP(user.totp_secret or "")


def provisioning_uri(user: StaffUser) -> str:
    """The otpauth:// URI an authenticator app reads."""
    return totp_of(user).provisioning_uri(name=user.email, issuer_name=TOTP_ISSUER)


def qr_code_svg(user: StaffUser) -> Markup:
    """The URI as an inline SVG QR code (no script, no style attribute: nothing the CSP refuses)."""
    import segno  # loaded at enrolment only, not in every worker

    return Markup(segno.make(provisioning_uri(user), error="m").svg_inline(scale=4, title=_("Code QR à scanner")))


def verify_second_factor(user: StaffUser, code: str, ip_prefix: str | None) -> bool:
    """A current TOTP code or an unused recovery code, spent in the transaction that records the login (commits);
    a failure counts towards the owner's warning."""
    code = normalised_code(code)
    if spend_totp_code(user, code) or spend_recovery_code(user, code):
        logged_in(user)
        return True
    failed_code(user, ip_prefix)
    return False


def normalised_code(code: str | None) -> str:
    """The code as typed, without spaces or dashes, in lower case (recovery codes are shown as `abcd1234-…`)."""
    return "".join((code or "").split()).replace("-", "").lower()


def failed_code(user: StaffUser, ip_prefix: str | None) -> None:
    """Nothing of the attempt is kept but the failure itself; commits."""
    db.session.rollback()
    record_failure(user, ip_prefix)


def spend_totp_code(user: StaffUser, code: str) -> bool:
    """Six ASCII digits of this, the previous or the next 30-second step, newer than the last step accepted: the
    step is taken by a conditional UPDATE, so two requests with one code cannot both have it."""
    if not (SIX_DIGITS.fullmatch(code) and user.totp_secret):
        return False
    totp, now = totp_of(user), utcnow()
    for offset in (-1, 0, 1):
        at = now + timedelta(seconds=offset * totp.interval)
        if hmac.compare_digest(totp.at(at), code):
            step = totp.timecode(at)
            return db.session.execute(sa.update(StaffUser).where(
                StaffUser.id == user.id, sa.or_(StaffUser.last_totp_step.is_(None), StaffUser.last_totp_step < step),
            ).values(last_totp_step=step)).rowcount == 1
    return False


def spend_recovery_code(user: StaffUser, code: str) -> bool:
    """An unused recovery code, spent by a conditional UPDATE (64 random bits each: a keyed hash is enough)."""
    return db.session.execute(sa.update(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.code_hash == keyed_hash(f"recovery:{code}"),
        RecoveryCode.used_at.is_(None)).values(used_at=utcnow())).rowcount == 1


@dataclass(frozen=True)
class Enrolment:
    """What a staff member sees once, when the second factor is enrolled: the recovery codes in clear."""

    recovery_codes: list[str]


def enrol(user: StaffUser, code: str, ip_prefix: str | None) -> Enrolment | None:
    """Confirm the authenticator with a first code, then issue 10 single-use recovery codes (stored hashed), in the
    transaction that records the login; commits."""
    if user.totp_enrolled_at is not None:
        return None
    if not spend_totp_code(user, normalised_code(code)):
        failed_code(user, ip_prefix)
        return None
    codes = [f"{secrets.token_hex(4)}-{secrets.token_hex(4)}" for _ in range(RECOVERY_CODE_COUNT)]
    user.recovery_codes = [RecoveryCode(code_hash=keyed_hash(f"recovery:{c.replace('-', '')}")) for c in codes]
    user.totp_enrolled_at = utcnow()
    logged_in(user)
    return Enrolment(codes)


def logged_in(user: StaffUser) -> None:
    """Both factors passed: note the time, forget the failures; commits (with the code just spent)."""
    user.last_login_at, user.failed_logins = utcnow(), 0
    db.session.commit()


def end_sessions(user: StaffUser) -> None:
    """Logout: every session of the account ends, a copied cookie included; commits."""
    user.rotate_session()
    db.session.commit()
