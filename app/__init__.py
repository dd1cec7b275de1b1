"""K-Inventory privacy site: the application factory, a table of contents of what is connected to what."""

from flask import Flask

from app import datamap, i18n, security, templating
from app.auth import bp as auth_bp
from app.auth.cli import users
from app.auth.models import StaffUser
from app.auth.services import load_user
from app.backoffice import bp as backoffice_bp
from app.backoffice.cli import registre
from app.config import Config, config_for_environment
from app.consent import bp as consent_bp
from app.consent import datamap as consent_data
from app.consent.cli import consent
from app.database import enable_sqlite_wal
from app.errors import register_errorhandlers
from app.extensions import babel, csrf, db, limiter, login, migrate
from app.mail import datamap as mail_data
from app.mail.cli import mail, outbox
from app.main import bp as main_bp
from app.newsletter import bp as newsletter_bp
from app.newsletter import datamap as newsletter_data
from app.newsletter.cli import newsletter
from app.newsletter.optout import follow_suppression
from app.newsletter.services import confirmed_addresses
from app.ops import bp as ops_bp
from app.ops import logs, metrics
from app.policy import bp as policy_bp
from app.policy.cli import policy
from app.policy.services import notice_recipients_wanted
from app.rights import bp as rights_bp
from app.rights import datamap as rights_data
from app.rights.cli import rights
from app.suppression import datamap as suppression_data
from app.suppression.services import suppression_changed


class InsecureConfiguration(RuntimeError):
    """Raised when production settings are unsafe; the message names every variable to set."""


def create_app(config: Config | None = None) -> Flask:
    """Build the app: settings, extensions, blueprints, error pages, commands, and how features hear each other."""
    config = config or config_for_environment()
    refuse_insecure_config(config)
    app = Flask(__name__, static_folder="../static", instance_relative_config=True)
    app.config.from_object(config)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    register_features()
    security.init_app(app)
    metrics.init_app(app)
    logs.init_app(app)
    return app


def refuse_insecure_config(config: Config) -> None:
    """Stop with one message naming every variable to set."""
    problems = config.problems()
    if problems:
        lines = "\n  - ".join(problems)
        raise InsecureConfiguration(f"Refusing to start in production; set these variables:\n  - {lines}")


def register_extensions(app: Flask) -> None:
    """Bind the shared extension instances to this app."""
    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"))
    babel.init_app(app, locale_selector=i18n.select_locale)
    i18n.init_app(app)
    templating.init_app(app)
    csrf.init_app(app)
    login.init_app(app)
    login.login_view = "auth.login"
    login.user_loader(load_user)
    limiter.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():
            enable_sqlite_wal(db.engine)


def register_blueprints(app: Flask) -> None:
    """Mount every feature blueprint."""
    for blueprint in (main_bp, policy_bp, consent_bp, newsletter_bp, rights_bp, auth_bp, backoffice_bp, ops_bp):
        app.register_blueprint(blueprint)


def register_commands(app: Flask) -> None:
    """Add the `flask` command groups."""
    for group in (i18n.translate, outbox, mail, policy, consent, newsletter, rights, users, registre):
        app.cli.add_command(group)


def register_features() -> None:
    """What each feature tells the others: the data map, opt-out changes, addresses for policy notices."""
    datamap.register(*consent_data.KINDS, *newsletter_data.KINDS, *rights_data.KINDS, *mail_data.KINDS,
                     *suppression_data.KINDS)
    datamap.exempt(StaffUser, "staff accounts: managed under the employment contract, not the public rights form")
    suppression_changed.connect(follow_suppression)
    notice_recipients_wanted.connect(confirmed_addresses)
