"""K-Inventory privacy site: the application factory, a table of contents of what is connected to what."""

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app import crossorigin, datamap, faults, headers, i18n, pagecache, schema, security, templating, translate
from app.audiences import datamap as audience_data
from app.audiences import retention as audience_retention
from app.audiences.cli import audiences
from app.auth import bp as auth_bp
from app.auth.cli import users
from app.auth.models import RecoveryCode, StaffUser
from app.auth.services import load_user
from app.backoffice import bp as backoffice_bp
from app.backoffice import retention as staff_reads_retention
from app.backoffice.cli import audit, registre
from app.backoffice.models import StaffRead
from app.backup import journal as restore_journal
from app.backup import services as backups
from app.backup.cli import backup
from app.config import Config, InsecureConfiguration, config_for_environment, secrets_group
from app.connectors import bp as connectors_bp
from app.connectors.cli import connectors
from app.connectors.models import ConnectedSystem
from app.consent import bp as consent_bp
from app.consent import datamap as consent_data
from app.consent import reports as consent_reports
from app.consent.cli import consent
from app.consent.hooks import page_variant_key
from app.consent.services import WITHDRAW, replay_withdrawals
from app.database import close_session, enable_sqlite_wal
from app.errors import register_errorhandlers
from app.extensions import babel, cache, csrf, db, limiter, login
from app.jobs.cli import jobs
from app.jobs.models import ScheduledJob
from app.mail import datamap as mail_data
from app.mail import retention as mail_retention
from app.mail.bounces import domain_blocked
from app.mail.cli import mail, outbox
from app.mail.services import register_template_source
from app.main import bp as main_bp
from app.newsletter import bp as newsletter_bp
from app.newsletter import datamap as newsletter_data
from app.newsletter import maintenance as newsletter_retention
from app.newsletter.campaigns import campaign_content, tell_dpo_of_block
from app.newsletter.cli import newsletter, sms_send
from app.newsletter.mail import MARKETING
from app.newsletter.optout import LEAVE, follow_suppression, replay_lists_left, replay_suppressions
from app.newsletter.services import confirmed_addresses
from app.ops import bp as ops_bp
from app.ops import logs, metrics, redaction
from app.policy import bp as policy_bp
from app.policy.cli import policy
from app.policy.services import current_version_number, notice_recipients_wanted
from app.product import bp as product_bp
from app.product import datamap as product_data
from app.product import retention as product_retention
from app.product.models import AccountClosure, ProductEvent
from app.retention import register as retention_register
from app.retention.cli import retention
from app.rights import bp as rights_bp
from app.rights import datamap as rights_data
from app.rights import maintenance as rights_retention
from app.rights.cli import rights
from app.scanner.cli import cookies
from app.scanner.models import CookieScan
from app.sms import datamap as sms_data
from app.sms import retention as sms_retention
from app.sms.cli import sms
from app.suppression import datamap as suppression_data
from app.suppression.services import suppression_changed

__all__ = ["InsecureConfiguration", "create_app"]


def create_app(config: Config | None = None) -> Flask:
    """Build the app: settings, extensions, blueprints, error pages, commands, and how features hear each other."""
    config = config or config_for_environment()
    refuse_insecure_config(config)
    app = Flask(__name__, static_folder="../static", instance_relative_config=True)
    app.config.from_object(config)
    trust_proxies(app)
    headers.init_app(app)  # first registered, so its after-request hook runs last and sees every cookie set
    app.url_map.converters["int"] = security.BoundedIntConverter  # out-of-range numbers in URLs are 404s
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    register_features(app)
    crossorigin.init_app(app)  # before any other check: a forged post is refused as such
    security.init_app(app, staff_blueprints=(auth_bp.name, backoffice_bp.name))  # public forms: app.crossorigin
    metrics.init_app(app)
    logs.init_app(app)
    redaction.init_app(app)  # last: every handler the others set up
    return app


def refuse_insecure_config(config: Config) -> None:
    """Stop with one message naming every variable to set."""
    problems = config.problems()
    if problems:
        lines = "\n  - ".join(problems)
        raise InsecureConfiguration(f"Refusing to start in production; set these variables:\n  - {lines}")


def trust_proxies(app: Flask) -> None:
    """Behind TRUSTED_PROXY_COUNT reverse proxies, read the client's address, scheme and host from their headers."""
    count = app.config["TRUSTED_PROXY_COUNT"]
    if count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)


def register_extensions(app: Flask) -> None:
    """Bind the shared extension instances to this app."""
    db.init_app(app)
    schema.init_app(app, db, directory=str(app.root_path + "/../migrations"))
    babel.init_app(app, locale_selector=i18n.select_locale)
    i18n.init_app(app)
    templating.init_app(app)
    csrf.init_app(app)
    login.init_app(app)
    login.login_view = "auth.login"
    login.user_loader(load_user)
    limiter.init_app(app)
    cache.init_app(app)
    faults.init_app(app)
    app.teardown_appcontext(close_session)  # runs before Flask-SQLAlchemy's own teardown
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():
            enable_sqlite_wal(db.engine)


def register_blueprints(app: Flask) -> None:
    """Mount every feature blueprint."""
    for blueprint in (main_bp, policy_bp, consent_bp, newsletter_bp, rights_bp, auth_bp, backoffice_bp, connectors_bp,
                      product_bp, ops_bp):
        app.register_blueprint(blueprint)


def register_commands(app: Flask) -> None:
    """Add the `flask` command groups."""
    for group in (translate.translate, secrets_group, outbox, mail, policy, consent, newsletter, rights, users, audit,
                  registre, connectors, audiences, sms, retention, backup, jobs, cookies):
        app.cli.add_command(group)
    sms.add_command(sms_send)  # `flask sms send`: the newsletter's lists are its audience


def register_features(app: Flask) -> None:
    """What each feature tells the others: the data map, the retention register, opt-out changes, the restore
    journal, policy notices, campaign bodies for the outbox, what public pages depend on besides their address."""
    retention_register.register(app, *newsletter_retention.RULES, *consent_reports.RULES, *rights_retention.RULES,
                                *mail_retention.RULES, *sms_retention.RULES, *audience_retention.RULES,
                                *staff_reads_retention.RULES, *product_retention.RULES, *retention_register.RULES)
    datamap.register(app, *consent_data.KINDS, *newsletter_data.KINDS, *rights_data.KINDS, *mail_data.KINDS,
                     *suppression_data.KINDS, *audience_data.KINDS, *sms_data.KINDS, *product_data.KINDS)
    datamap.exempt(app, StaffUser, "staff accounts: managed under the employment contract, not the public rights form")
    datamap.exempt(app, ConnectedSystem, "connected systems: company systems and endpoints, no one's personal data")
    datamap.exempt(app, RecoveryCode, "staff second-factor codes (keyed hashes): part of the staff account")
    datamap.exempt(app, StaffRead, "the journal of staff reads: staff addresses and request references, as evidence")
    datamap.exempt(app, ProductEvent, "the ids and types of the product's events: nothing about a person")
    datamap.exempt(app, AccountClosure, "an account closure's deadlines: the person is in its erasure request")
    datamap.exempt(app, CookieScan, "a cookie scan's report: cookie names and hosts, nothing about a person")
    datamap.exempt(app, ScheduledJob, "a scheduled job's name and last result: nothing about a person")
    suppression_changed.connect(follow_suppression)
    domain_blocked.connect(tell_dpo_of_block)
    datamap.person_erased.connect(restore_journal.note_erasure)
    suppression_changed.connect(restore_journal.note_suppression)
    replayers = {restore_journal.SUPPRESS: replay_suppressions, LEAVE: replay_lists_left, WITHDRAW: replay_withdrawals}
    for kind, replayer in replayers.items():
        restore_journal.register(app, kind, replayer)
    restore_journal.listen()
    backups.init_app(app, create_app)  # a restore builds this same site on its scratch database
    notice_recipients_wanted.connect(confirmed_addresses)
    register_template_source(app, MARKETING, campaign_content)
    pagecache.vary_on(app, current_version_number)  # a publication changes every page's key at once
    pagecache.vary_on(app, page_variant_key)  # the banner, the tags, the choices ticked, the GPC notice
