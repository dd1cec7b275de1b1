"""`flask users …`: staff accounts for the back-office."""

import click
from flask.cli import AppGroup

from app.auth.models import Role
from app.auth.services import StaffError, create_staff

users = AppGroup("users", help="Staff accounts of the back-office.")


@users.command("create-staff")
@click.argument("email")
@click.option("--role", type=click.Choice([role.value for role in Role]), default=Role.AGENT.value, show_default=True,
              help="agent handles requests; dpo may also refuse requests and erase data.")
@click.password_option(prompt="Password", confirmation_prompt="Repeat the password")
def create_staff_command(email: str, role: str, password: str) -> None:
    """Create a staff account; the password is asked twice and stored hashed."""
    try:
        user = create_staff(email, password, role)
    except StaffError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Staff account {user.email} created with role {user.role}.")
