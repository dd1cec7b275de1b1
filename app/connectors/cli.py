"""`flask connectors`: declare the systems that hold people's data, and send them the queued requests."""

import time

import click
from flask.cli import AppGroup

from app.connectors import services
from app.connectors.models import RequestType

connectors = AppGroup("connectors", help="Connected systems that receive rights requests.")


@connectors.command("add")
@click.argument("name")
@click.option("--url", required=True, help="The endpoint that receives signed requests (https).")
@click.option("--secret", required=True, help="The shared signing secret, whsec_<base64> (Standard Webhooks).")
@click.option("--types", required=True, help=f"Comma-separated, among: {', '.join(RequestType)}.")
def add(name: str, url: str, secret: str, types: str) -> None:
    """Declare a system."""
    try:
        system = services.add_system(name, url, secret, [t.strip() for t in types.split(",") if t.strip()])
    except services.ConnectorError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"{system.name} declared for {', '.join(system.types)}")


@connectors.command("list")
def list_command() -> None:
    """Each system, its endpoint and the request types it handles (never its secret)."""
    for system in services.systems():
        click.echo(f"{system.name}\t{system.url}\t{','.join(system.types)}")


@connectors.command("remove")
@click.argument("name")
def remove(name: str) -> None:
    """Forget a system and the requests sent to it."""
    try:
        services.remove_system(name)
    except services.ConnectorError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"{name} removed")


@connectors.command("send")
@click.option("--loop", is_flag=True, help="Keep running as a worker.")
@click.option("--interval", default=30.0, show_default=True, help="Seconds between passes with --loop.")
def send(loop: bool, interval: float) -> None:
    """Send every queued request that is due; with --loop, keep doing so."""
    while True:
        report = services.deliver_due()
        if report.sent or report.retried or report.failed or not loop:
            click.echo(f"sent {report.sent}, to retry {report.retried}, failed {report.failed}")
        if not loop:
            return
        time.sleep(interval)
