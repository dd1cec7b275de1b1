"""What the page loads after consent: the tags of accepted categories, their CSP hosts, Google Consent Mode."""

import json

from markupsafe import Markup

from app.consent.register import Service
from app.consent.services import current_register
from app.headers import source_hash

CONSENT_MODE_SIGNALS = ("ad_storage", "analytics_storage", "ad_user_data", "ad_personalization")
GOOGLE_TAG_START = "gtag('js',new Date());"
# How long Google tags wait for an `update` after the default, in milliseconds (for a tag loaded before the choice).
WAIT_FOR_UPDATE_MS = 500


def accepted_services(choices: dict[str, bool]) -> list[Service]:
    """The services with a tag in the accepted categories, in register order."""
    return [service for category in current_register().optional if choices.get(category.key)
            for service in category.services if service.tag]


def tag_list(choices: dict[str, bool]) -> list[dict]:
    """The tags to start, as data (the page renders them; the JavaScript enhancement injects them).

    Google services share one gtag.js: the first accepted one loads it and starts it (`gtag('js')`); every one
    adds its own `config` line.
    """
    tags, google_loaded = [], False
    for service in accepted_services(choices):
        tag = {"service": service.key, "src": service.tag.src, "code": service.tag.snippet}
        if service.tag.google:
            if google_loaded:
                tag["src"] = None
            else:
                tag["code"] = GOOGLE_TAG_START + service.tag.snippet
            google_loaded = True
        tags.append(tag)
    return tags


def page_tag_hosts(choices: dict[str, bool], banner_open: bool) -> dict[str, list[str]]:
    """The hosts a public page opens its CSP to: the accepted categories' tags, or every tag while the banner is open.

    A tag starts only from a script whose hash the page's CSP lists, injected after the visitor accepts; opening its
    hosts (and its snippets' hashes) while the banner is open lets it then load its own scripts and send its beacons
    without a reload. Nothing is requested before.
    """
    if banner_open:
        tagged = [s for category in current_register().optional for s in category.services if s.tag]
        hosts = csp_hosts(tagged)
        return {**hosts, "script-src": [*hosts.get("script-src", []), *possible_snippet_hashes(tagged)]}
    return csp_hosts(accepted_services(choices))


def possible_snippet_hashes(services: list[Service]) -> list[str]:
    """The CSP hashes of every inline snippet the banner's script may start after a choice (a Google service's own
    line, or the same line after gtag.js's start when it is the first Google service accepted)."""
    codes = [service.tag.snippet for service in services if service.tag.snippet]
    codes += [GOOGLE_TAG_START + service.tag.snippet for service in services if service.tag.google]
    return [source_hash(code) for code in codes]


# The CSP hosts of each set of services asked for so far, by the services' identities (kept alive with them).
HOSTS_OF: dict[tuple[int, ...], tuple[list[Service], dict[str, list[str]]]] = {}


def csp_hosts(services: list[Service]) -> dict[str, list[str]]:
    """The hosts each CSP directive must allow for these services (worked out once per set of services)."""
    key = tuple(map(id, services))
    if key not in HOSTS_OF:
        wanted: dict[str, list[str]] = {}
        for service in services:
            for directive, hosts in service.tag.csp.items():
                known = wanted.setdefault(directive, [])
                known.extend(host for host in hosts if host not in known)
        HOSTS_OF[key] = (list(services), wanted)
    return HOSTS_OF[key][1]


def consent_mode(choices: dict[str, bool]) -> dict[str, str]:
    """Google Consent Mode v2 signals for a choice: granted only for accepted categories."""
    granted = {signal for category in current_register().optional if choices.get(category.key)
               for signal in category.consent_mode}
    return {signal: "granted" if signal in granted else "denied" for signal in CONSENT_MODE_SIGNALS}


def consent_mode_script(choices: dict[str, bool] | None) -> Markup:
    """The inline script: every signal denied by default, then updated from the visitor's choice."""
    default = {**dict.fromkeys(CONSENT_MODE_SIGNALS, "denied"), "wait_for_update": WAIT_FOR_UPDATE_MS}
    lines = [
        "window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}",
        f"gtag('consent','default',{json.dumps(default)});",
        "gtag('set','ads_data_redaction',true);",
    ]
    if choices and any(choices.values()):
        lines.append(f"gtag('consent','update',{json.dumps(consent_mode(choices))});")
    return Markup("\n".join(lines))
