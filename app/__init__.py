"""K-Inventory privacy site: the application factory."""

from flask import Flask

from app import cli, i18n, security, templating
from app.config import Config, config_for_environment
from app.extensions import babel, csrf, db, limiter, login, migrate
from app.i18n import select_locale


class InsecureConfiguration(RuntimeError):
    """Raised when production settings are unsafe; the message names every variable to set."""


def create_app(config: Config | None = None) -> Flask:
    """Build the app: settings, extensions, blueprints, error pages, commands."""
    config = config or config_for_environment()
    refuse_insecure_config(config)
    app = Flask(__name__, static_folder="../static", instance_relative_config=True)
    app.config.from_object(config)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    security.init_app(app)
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
    babel.init_app(app, locale_selector=select_locale)
    i18n.init_app(app)
    templating.init_app(app)
    csrf.init_app(app)
    login.init_app(app)
    login.login_view = "admin.login"
    limiter.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        from app.database import enable_sqlite_wal

        with app.app_context():
            enable_sqlite_wal(db.engine)


def register_blueprints(app: Flask) -> None:
    """Mount every feature blueprint."""
    from app.admin import bp as admin_bp
    from app.consent import bp as consent_bp
    from app.errors import bp as errors_bp
    from app.main import bp as main_bp
    from app.newsletter import bp as newsletter_bp
    from app.policy import bp as policy_bp
    from app.rights import bp as rights_bp

    for blueprint in (main_bp, policy_bp, consent_bp, newsletter_bp, rights_bp, admin_bp, errors_bp):
        app.register_blueprint(blueprint)


def register_errorhandlers(app: Flask) -> None:
    """Render error pages in the visitor's language with the site's layout."""
    from app.errors.handlers import register

    register(app)


def register_commands(app: Flask) -> None:
    """Add the `flask` command groups."""
    cli.register(app)
