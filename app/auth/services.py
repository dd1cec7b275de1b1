"""Staff accounts: create and manage them, check passwords in constant time, lock after repeated failures,
the TOTP second factor and its recovery codes, and the session token that ends every session when rotated."""

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import pyotp
import sqlalchemy as sa
from flask_babel import gettext as _
from markupsafe import Markup
from werkzeug.security import check_password_hash, generate_password_hash

from app.auth.models import RecoveryCode, Role, StaffUser
from app.database import utcnow
from app.extensions import db
from app.personal import keyed_hash, normalise_email

MIN_PASSWORD_LENGTH = 12
MIN_PASSWORD_SCORE = 3  # zxcvbn: 3 "safely unguessable", 4 "very unguessable"
MAX_FAILED_LOGINS = 10
LOCK_DURATION = timedelta(minutes=15)
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
    return list(db.session.scalars(sa.select(StaffUser.email).where(StaffUser.active.is_(True),
                                                                    StaffUser.role == Role.DPO)))


def check_password(email: str, password: str) -> StaffUser | None:
    """The active, unlocked account with these credentials, or None; the same work and answer for any wrong part.

    A hash is always computed (a dummy one for an unknown address); failures count towards the account's lock.
    """
    user = find_staff(email)
    matches = check_password_hash(user.password_hash if user else dummy_hash(), password)
    if user is None or not user.active:
        return None
    if is_locked(user):
        return None
    if not matches:
        record_failure(user)
        return None
    return user


def is_locked(user: StaffUser, now: datetime | None = None) -> bool:
    """Whether the account is locked after too many failures."""
    return user.locked_until is not None and user.locked_until > (now or utcnow())


def record_failure(user: StaffUser) -> None:
    """One more failure (password or code); the tenth locks the account for 15 minutes; commits."""
    user.failed_logins += 1
    if user.failed_logins >= MAX_FAILED_LOGINS:
        user.locked_until, user.failed_logins = utcnow() + LOCK_DURATION, 0
    db.session.commit()


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


def verify_second_factor(user: StaffUser, code: str) -> bool:
    """A current TOTP code (each accepted once) or an unused recovery code; a failure counts towards the lock."""
    code = "".join((code or "").split()).replace("-", "").lower()
    if not is_locked(user) and (use_totp_code(user, code) or use_recovery_code(user, code)):
        user.failed_logins = 0
        db.session.commit()
        return True
    if not is_locked(user):
        record_failure(user)
    return False


def use_totp_code(user: StaffUser, code: str) -> bool:
    """A six-digit code of this, the previous or the next 30-second step, never one already used."""
    if not (code.isdigit() and len(code) == 6 and user.totp_secret):
        return False
    totp, now = totp_of(user), utcnow()
    for offset in (-1, 0, 1):
        at = now + timedelta(seconds=offset * totp.interval)
        step = totp.timecode(at)
        if hmac.compare_digest(totp.at(at), code) and step > (user.last_totp_step or -1):
            user.last_totp_step = step
            return True
    return False


def use_recovery_code(user: StaffUser, code: str) -> bool:
    """An unused recovery code, spent by this use (64 random bits each: a keyed hash is enough to store them)."""
    digest = keyed_hash(f"recovery:{code}")
    for recovery in user.recovery_codes:
        if recovery.used_at is None and hmac.compare_digest(recovery.code_hash, digest):
            recovery.used_at = utcnow()
            return True
    return False


@dataclass(frozen=True)
class Enrolment:
    """What a staff member sees once, when the second factor is enrolled: the recovery codes in clear."""

    recovery_codes: list[str]


def enrol(user: StaffUser, code: str) -> Enrolment | None:
    """Confirm the authenticator with a first code, then issue 10 single-use recovery codes (stored hashed)."""
    if user.totp_enrolled_at is not None or not verify_second_factor(user, code):
        return None
    codes = [f"{secrets.token_hex(4)}-{secrets.token_hex(4)}" for _ in range(RECOVERY_CODE_COUNT)]
    user.recovery_codes = [RecoveryCode(code_hash=keyed_hash(f"recovery:{c.replace('-', '')}")) for c in codes]
    user.totp_enrolled_at = utcnow()
    db.session.commit()
    return Enrolment(codes)


def logged_in(user: StaffUser) -> None:
    """Both factors passed: note the time, forget the failures; commits."""
    user.last_login_at, user.failed_logins = utcnow(), 0
    db.session.commit()


def end_sessions(user: StaffUser) -> None:
    """Logout: every session of the account ends, a copied cookie included; commits."""
    user.rotate_session()
    db.session.commit()
