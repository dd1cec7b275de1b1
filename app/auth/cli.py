"""`flask users …`: staff accounts for the back-office."""

from collections.abc import Callable

import click
from flask.cli import AppGroup
from flask_babel import force_locale

from app.auth import services
from app.auth.models import Role, StaffUser
from app.auth.services import StaffError

users = AppGroup("users", help="Staff accounts of the back-office.")
ROLE_OPTION = click.Choice([role.value for role in Role])


def run(action: Callable[..., StaffUser], *args) -> StaffUser:
    """Run a service (messages in French, the site's language); its refusal becomes the command's error."""
    try:
        with force_locale("fr"):
            return action(*args)
    except StaffError as error:
        raise click.ClickException(str(error)) from error


@users.command("create-staff")
@click.argument("email")
@click.option("--role", type=ROLE_OPTION, default=Role.AGENT.value, show_default=True,
              help="agent handles requests; dpo may also refuse requests and erase data.")
@click.password_option(prompt="Password", confirmation_prompt="Repeat the password")
def create_staff_command(email: str, role: str, password: str) -> None:
    """Create a staff account (the password is asked twice); print the authenticator URI once."""
    user = run(services.create_staff, email, password, role)
    click.echo(f"Staff account {user.email} created with role {user.role}.")
    click.echo("Add it to an authenticator app now (shown once; a QR code is also shown at the first login):")
    click.echo(services.provisioning_uri(user))


@users.command("list")
def list_command() -> None:
    """Every account: address, role, active or not, second factor enrolled or not, last login."""
    for user in services.all_staff():
        state = "active" if user.active else "deactivated"
        second = "2FA enrolled" if user.totp_enrolled_at else "2FA not enrolled"
        last = user.last_login_at.isoformat(timespec="minutes") if user.last_login_at else "never"
        click.echo(f"{user.email}\t{user.role}\t{state}\t{second}\tlast login {last}")


@users.command("deactivate")
@click.argument("email")
def deactivate_command(email: str) -> None:
    """Stop an account from logging in; its open sessions end at once."""
    user = run(services.deactivate, email)
    click.echo(f"{user.email} deactivated; its sessions are closed.")


@users.command("activate")
@click.argument("email")
def activate_command(email: str) -> None:
    """Let a deactivated account log in again (failed logins never lock one: nothing else to undo)."""
    user = run(services.activate, email)
    click.echo(f"{user.email} may log in again.")


@users.command("reset-2fa")
@click.argument("email")
def reset_second_factor_command(email: str) -> None:
    """A lost phone: new enrolment at the next login, recovery codes void, sessions closed."""
    user = run(services.reset_second_factor, email)
    click.echo(f"{user.email}: second factor reset; a new QR code is shown at the next login.")


@users.command("set-password")
@click.argument("email")
@click.password_option(prompt="New password", confirmation_prompt="Repeat the password")
def set_password_command(email: str, password: str) -> None:
    """A new password (asked twice); the account's sessions end."""
    user = run(services.change_password, email, password)
    click.echo(f"{user.email}: password changed; its sessions are closed.")


@users.command("set-role")
@click.argument("email")
@click.option("--role", type=ROLE_OPTION, required=True)
def set_role_command(email: str, role: str) -> None:
    """A new role; the account's sessions end."""
    user = run(services.change_role, email, role)
    click.echo(f"{user.email} is now {user.role}; its sessions are closed.")
