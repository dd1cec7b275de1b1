"""Every `flask` command group of the site, registered in one place."""

from flask import Flask


def register(app: Flask) -> None:
    """Attach each feature's command group."""
    from app.admin.cli import users
    from app.consent.cli import consent
    from app.i18n import translate
    from app.mail.cli import mail, outbox
    from app.newsletter.cli import newsletter
    from app.policy.cli import policy
    from app.rights.cli import rights

    for group in (translate, outbox, mail, policy, consent, newsletter, rights, users):
        app.cli.add_command(group)
