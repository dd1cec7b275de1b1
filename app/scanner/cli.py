"""`flask cookies scan`: the site opened in Chromium in every consent state and compared with the cookie register."""

import json

import click
from flask.cli import AppGroup

from app.scanner.services import ScanError, run_scan, text_report

cookies = AppGroup("cookies", help="The live cookie scanner.")


@cookies.command("scan")
@click.option("--url", "urls", multiple=True, help="A page to start from (repeat; default: SCAN_URLS, else SITE_URL).")
@click.option("--pages", default=30, show_default=True, type=click.IntRange(1, 1000),
              help="Pages to open per consent state, following internal links.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole report as JSON.")
def scan(urls: tuple[str, ...], pages: int, as_json: bool) -> None:
    """Scan in every consent state, keep the report, mail the dpo of new findings; exit 1 when anything is found."""
    try:
        done = run_scan(urls, pages)
    except ScanError as error:
        raise click.ClickException(str(error)) from error
    if as_json:
        click.echo(json.dumps({"started_at": done.started_at.isoformat(), **done.report}, ensure_ascii=False,
                              indent=1))
    else:
        click.echo(text_report(done))
    if done.findings:
        raise SystemExit(1)
