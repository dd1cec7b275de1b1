"""`flask policy`: load the first version, publish new ones."""

from pathlib import Path

import click
from flask.cli import AppGroup

from app.policy.services import PolicyError, load_first_version, publish

policy = AppGroup("policy", help="Publish the privacy policy.")


@policy.command("init")
def init() -> None:
    """Load the first published version if none exists."""
    version = load_first_version()
    click.echo(f"published version {version.number}" if version else "a version is already published")


@policy.command("publish")
@click.option("--file", "text_file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The French text (the version that prevails).")
@click.option("--file-en", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The English courtesy translation.")
@click.option("--summary", required=True, help="What changed, in French.")
@click.option("--material", is_flag=True, help="Notify every known address of the change.")
def publish_command(text_file: Path, file_en: Path | None, summary: str, material: bool) -> None:
    """Publish a new version of the policy."""
    try:
        version, notified = publish(text_file.read_text(encoding="utf-8"), summary,
                          file_en.read_text(encoding="utf-8") if file_en else None, material)
    except PolicyError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"published version {version.number}; notices queued: {notified}")
