"""The scan compared with the cookie register: what was undeclared, set too early, kept after a refusal or too long;
each report kept, and the dpo told of findings the previous scan did not have."""

from dataclasses import asdict, dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import sqlalchemy as sa
from flask import current_app, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from app.auth.services import dpo_addresses
from app.consent.register import Category, Cookie, Register
from app.consent.services import current_register
from app.database import utcnow
from app.extensions import db
from app.mail.services import queue_mail
from app.rights.captcha import PROVIDERS
from app.scanner.browser import Observation, observe
from app.scanner.models import CookieScan

TOLERANCE_DAYS = 1


@dataclass(frozen=True)
class Finding:
    """One thing the register does not allow: its kind, the cookie or host, the consent states, a detail."""

    kind: str  # undeclared_cookie, undeclared_host, before_consent, after_refusal, not_chosen, lifetime
    subject: str
    states: tuple[str, ...]
    detail: str = ""

    @property
    def key(self) -> str:
        """What stays the same from one scan to the next (to tell a new finding from a known one)."""
        return f"{self.kind}:{self.subject}"


def host_patterns(category: Category) -> list[str]:
    """The hosts a category's tags load from or talk to, as shell patterns (`*.google-analytics.com`)."""
    sources = [source for service in category.services if service.tag for source in
               ([service.tag.src] if service.tag.src else []) + [s for srcs in service.tag.csp.values() for s in srcs]]
    if category.required:  # the captcha in use, on the contact page
        provider = PROVIDERS.get(current_app.config.get("CAPTCHA_PROVIDER", ""))
        sources += [source for _directive, srcs in (provider.csp if provider else ()) for source in srcs]
    return sorted({urlsplit(source).hostname or source for source in sources})


def categories_of_host(register: Register, host: str) -> list[Category]:
    """The categories whose tags use the host (gtag.js serves several), none when the register names it nowhere."""
    return [c for c in register.categories if any(fnmatchcase(host, pattern) for pattern in host_patterns(c))]


def category_of_cookie(register: Register, name: str) -> tuple[Category, Cookie] | tuple[None, None]:
    """The category and the register's entry of a cookie, or (None, None)."""
    for category in register.categories:
        for cookie in category.cookies:
            if cookie.matches(name):
                return category, cookie
    return None, None


def allowed(category: Category, state: str, accepted: dict[str, frozenset | None]) -> bool:
    """Whether the category may set cookies or be requested in that consent state."""
    chosen = accepted[state]
    return category.required or (chosen is not None and category.key in chosen)


def wrong_state(state: str) -> str:
    """Which rule a cookie or a host breaks in a state where its category is not allowed."""
    return {"no_choice": "before_consent", "refused": "after_refusal"}.get(state, "not_chosen")


def cookie_findings(register: Register, seen: Observation, accepted: dict) -> list[Finding]:
    """Undeclared cookies, cookies of a category not accepted, lifetimes beyond the declared one and a day."""
    found = []
    for cookie in seen.cookies:
        category, entry = category_of_cookie(register, cookie["name"])
        if category is None:
            found.append(Finding("undeclared_cookie", cookie["name"], (seen.state,), cookie["domain"]))
            continue
        if not allowed(category, seen.state, accepted):
            found.append(Finding(wrong_state(seen.state), cookie["name"], (seen.state,),
                                 str(category.key)))
        days = (cookie["expires_in"] or 0) / 86_400
        if days > entry.lifetime.in_days() + TOLERANCE_DAYS:
            found.append(Finding("lifetime", cookie["name"], (seen.state,),
                                 f"{days:.0f} > {entry.lifetime.in_days()}"))
    return found


def host_findings(register: Register, seen: Observation, accepted: dict) -> list[Finding]:
    """Third-party hosts the register does not name, or of a category not accepted."""
    found = []
    for host in sorted(seen.hosts):
        categories = categories_of_host(register, host)
        if not categories:
            found.append(Finding("undeclared_host", host, (seen.state,)))
        elif not any(allowed(category, seen.state, accepted) for category in categories):
            found.append(Finding(wrong_state(seen.state), host, (seen.state,), ", ".join(c.key for c in categories)))
    return found


def merged(findings: list[Finding]) -> list[Finding]:
    """One finding per kind and subject, with every state it was seen in."""
    by_key: dict[str, Finding] = {}
    for finding in findings:
        known = by_key.get(finding.key)
        states = (*known.states, *finding.states) if known else finding.states
        by_key[finding.key] = Finding(finding.kind, finding.subject, tuple(dict.fromkeys(states)), finding.detail)
    return sorted(by_key.values(), key=lambda f: (f.kind, f.subject))


def compare(register: Register, observations: list[Observation], accepted: dict) -> list[Finding]:
    """Every finding of a scan."""
    return merged([finding for seen in observations for finding in (
        *cookie_findings(register, seen, accepted), *host_findings(register, seen, accepted))])


def preferences_url() -> str:
    """The site's preferences page, where each state's choice is made (its cookie holds for the whole host)."""
    with current_app.test_request_context():
        return urljoin(current_app.config["SITE_URL"], url_for("consent.preferences", lang="fr"))


def scan_urls(urls: tuple[str, ...] = ()) -> list[str]:
    """The pages to start from: those given, else SCAN_URLS, else the site's home page."""
    return list(urls) or current_app.config["SCAN_URLS"] or [current_app.config["SITE_URL"].rstrip("/") + "/"]


class ScanError(RuntimeError):
    """A scan that cannot start, with what to do about it."""


def run_scan(urls: tuple[str, ...] = (), pages: int = 30) -> CookieScan:
    """Scan, compare, keep the report and tell the dpo of new findings; commits."""
    if not Path(current_app.config["SCAN_CHROMIUM"]).is_file():
        raise ScanError(f"no browser at {current_app.config['SCAN_CHROMIUM']}: install Debian's chromium package "
                        "or set SCAN_CHROMIUM")
    start, register = scan_urls(urls), current_register()
    optional = [category.key for category in register.optional]
    started = utcnow()
    observations = observe(start, preferences_url(), optional, pages, current_app.config["SCAN_CHROMIUM"])
    accepted = {"no_choice": None, "refused": frozenset(), "accepted": frozenset(optional),
                **{f"only_{key}": frozenset({key}) for key in optional}}
    findings = compare(register, observations, accepted)
    previous = last_scan()
    scan = CookieScan(started_at=started, finished_at=utcnow(), findings=len(findings), report=report_of(
        start, register, observations, findings, known={f["key"] for f in previous.report["findings"]}
        if previous else set()))
    db.session.add(scan)
    tell_dpo(scan)
    db.session.commit()
    return scan


def report_of(start: list[str], register: Register, observations: list[Observation], findings: list[Finding],
              known: set[str]) -> dict:
    """The report as plain data (kept in the database, printed with --json)."""
    return {
        "urls": start, "register_version": register.version,
        "states": {seen.state: {"pages": seen.pages, "errors": seen.errors, "hosts": sorted(seen.hosts),
                                "local_storage": sorted(seen.local_storage),
                                "cookies": [{key: cookie.get(key) for key in ("name", "domain", "path", "expires_in",
                                                                             "httpOnly", "secure", "sameSite")}
                                            for cookie in seen.cookies]} for seen in observations},
        "findings": [{**asdict(f), "key": f.key, "new": f.key not in known} for f in findings],
    }


def last_scan() -> CookieScan | None:
    """The latest scan."""
    return db.session.scalar(sa.select(CookieScan).order_by(CookieScan.started_at.desc()).limit(1))


def recent_scans(count: int = 10) -> list[CookieScan]:
    """The latest scans, newest first (the dashboard's trend)."""
    return list(db.session.scalars(sa.select(CookieScan).order_by(CookieScan.started_at.desc()).limit(count)))


def new_findings(scan: CookieScan) -> list[dict]:
    """The findings the previous scan did not have."""
    return [finding for finding in scan.report["findings"] if finding["new"]]


def tell_dpo(scan: CookieScan) -> int:
    """One e-mail to each dpo when the scan has new findings (in the caller's transaction)."""
    fresh = new_findings(scan)
    recipients = dpo_addresses() if fresh else []
    with force_locale("fr"):
        subject = _("Analyse des cookies\u00a0: %(count)d nouveau(x) constat(s)", count=len(fresh))
        text = render_template("scanner/new_findings.txt", scan=scan, findings=fresh, labels=finding_labels(),
                               states=state_labels())
    for address in recipients:
        queue_mail(address, subject, text, kind="staff")
    return len(recipients)


def finding_labels() -> dict[str, str]:
    """Each kind of finding in words."""
    return {"undeclared_cookie": _("Cookie non déclaré"), "undeclared_host": _("Hôte tiers non déclaré"),
            "before_consent": _("Déposé ou appelé avant tout choix"),
            "after_refusal": _("Déposé ou appelé après un refus"),
            "not_chosen": _("Déposé ou appelé sans que sa catégorie soit acceptée"),
            "lifetime": _("Durée de vie plus longue que déclarée")}


def state_labels() -> dict[str, str]:
    """Each consent state in words."""
    register = current_register()
    return {"no_choice": _("sans choix"), "refused": _("tout refusé"), "accepted": _("tout accepté"),
            **{f"only_{c.key}": _("%(category)s seule", category=c.name) for c in register.optional}}


def text_report(scan: CookieScan) -> str:
    """The report in words, for the terminal (the findings named in French, as the dpo reads them)."""
    with force_locale("fr"):
        labels, report = finding_labels(), scan.report
    lines = [f"scan of {', '.join(report['urls'])} at {scan.started_at:%Y-%m-%d %H:%M} UTC "
             f"(register {report['register_version']})"]
    for state, seen in report["states"].items():
        lines.append(f"  {state}: {len(seen['pages'])} pages, {len(seen['cookies'])} cookies, "
                     f"{len(seen['hosts'])} third-party hosts, {len(seen['local_storage'])} localStorage keys")
    lines.append(f"{scan.findings} finding(s)")
    lines += [f"  {'NEW ' if f['new'] else ''}{labels[f['kind']]}: {f['subject']} ({', '.join(f['states'])})"
              f"{' — ' + f['detail'] if f['detail'] else ''}" for f in report["findings"]]
    return "\n".join(lines)

