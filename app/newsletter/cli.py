"""`flask newsletter`: send a campaign, record an opt-out received by other means, purge old data, counts."""

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.database import utcnow
from app.extensions import db
from app.newsletter.campaigns import CampaignError, send_campaign
from app.newsletter.lists import LISTS
from app.newsletter.maintenance import list_counts, purge
from app.newsletter.services import record_staff_opt_out, unsubscribe_by_token
from app.newsletter.sms import SmsCampaignError, SmsCost, campaign_segments, send_sms_campaign
from app.personal import normalise_email, normalise_phone
from app.progress import reported
from app.sms.schedule import PARIS
from app.tokens import InvalidLink

newsletter = AppGroup("newsletter", help="Send campaigns and manage the newsletter's subscribers.")
text_file = click.Path(exists=True, dir_okay=False, path_type=Path)


@newsletter.command("send")
@click.option("--list", "slug", required=True, type=click.Choice(sorted(LISTS)), help="The list to send to.")
@click.option("--subject", required=True, help="The e-mail's subject.")
@click.option("--text", "text_path", required=True, type=text_file, help="The plain-text body (UTF-8).")
@click.option("--html", "html_path", type=text_file, help="The HTML body (UTF-8), optional.")
def send(slug: str, subject: str, text_path: Path, html_path: Path | None) -> None:
    """Queue one message per confirmed subscriber of the list, skipping the opt-out list."""
    html = html_path.read_text(encoding="utf-8") if html_path else None
    try:
        with reported("queueing messages"):
            report = send_campaign(slug, subject, text_path.read_text(encoding="utf-8"), html)
    except CampaignError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"campaign {report.campaign_id}: {report.queued} messages queued, "
               f"{report.suppressed} held back by the opt-out list")


@newsletter.command("opt-out")
@click.option("--email", help="An address that asked, by mail or phone, to receive nothing more.")
@click.option("--phone", help="A number that asked to receive no more SMS.")
@click.option("--token", help="The token after « unsubscribe » in the subject of a List-Unsubscribe mailto: e-mail.")
def opt_out(email: str | None, phone: str | None, token: str | None) -> None:
    """Record an opt-out received another way (a reply to the List-Unsubscribe mailto:, a letter, a call)."""
    if token:
        try:
            click.echo(f"unsubscribed from {unsubscribe_by_token(token.strip())}")
        except InvalidLink as error:
            raise click.BadParameter("not a token of ours (altered or cut?)", param_hint="--token") from error
        if not email and not phone:
            return
    if not email and not phone:
        raise click.UsageError("give --email and/or --phone (or --token)")
    if phone and not normalise_phone(phone):
        raise click.BadParameter(f"not a valid phone number: {phone}", param_hint="--phone")
    if email and "@" not in email:
        raise click.BadParameter(f"not an e-mail address: {email}", param_hint="--email")
    record_staff_opt_out(email=normalise_email(email) if email else None,
                         phone=normalise_phone(phone) if phone else None)
    db.session.commit()
    click.echo("opt-out recorded")


@newsletter.command("purge")
def purge_command() -> None:
    """Delete requests never confirmed after 30 days and subscribers gone quiet for 3 years (opt-outs stay)."""
    click.echo(f"subscribers deleted: {purge(utcnow())}")


@newsletter.command("lists")
def lists_command() -> None:
    """Each list with its confirmed subscribers."""
    for slug, counts in list_counts().items():
        click.echo(f"{slug}: {counts['active']} active, {counts['pending']} pending")


def check_cost(cost: SmsCost, allowed: int) -> None:
    """Print what each SMS of the campaign costs; refuse more segments than allowed."""
    click.echo(f"Each SMS as sent: {cost.segments.line()}"
               + (f" (not GSM-7 because of: {' '.join(map(repr, cost.outside))})" if cost.outside else ""))
    if cost.segments.count > allowed:
        raise SmsCampaignError(f"{cost.segments.count} segments per SMS is more than {allowed}: shorten the text, "
                               "or pass --max-segments to send it anyway")


@click.command("send")
@click.option("--list", "slug", required=True, type=click.Choice(sorted(LISTS)), help="The list to text.")
@click.option("--text", "text_path", required=True, type=text_file, help="The SMS text (UTF-8), without the "
              "sender's name or the STOP wording, which are added.")
@click.option("--max-segments", type=click.IntRange(min=1), default=None,
              help="Send a text billed as up to this many segments per SMS (default SMS_MAX_SEGMENTS).")
def sms_send(slug: str, text_path: Path, max_segments: int | None) -> None:
    """Queue one SMS per proven, consenting subscriber of the list, for the next allowed hours (`flask sms send`)."""
    text = text_path.read_text(encoding="utf-8")
    try:
        check_cost(campaign_segments(text), max_segments or current_app.config["SMS_MAX_SEGMENTS"])
        report = send_sms_campaign(slug, text)
    except SmsCampaignError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"SMS campaign {report.campaign_id}: {report.queued} SMS queued, {report.suppressed} held back by "
               f"the opt-out list, first sending {report.first_slot.astimezone(PARIS):%Y-%m-%d %H:%M} Paris time")
