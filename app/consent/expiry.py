"""Expire the cookies of refused categories: every name the register gives, on the site's domain and its parent."""

import ipaddress

from app.consent.services import current_register


def cookie_domains(host: str) -> list[str | None]:
    """Where a tag may have set a cookie: host-only (None), the host, and the parent domain (`.example.com`)."""
    host = host.split(":")[0].strip(".").lower() if not host.startswith("[") else ""
    if not host or host == "localhost" or "." not in host or is_ip(host):
        return [None]
    labels = host.split(".")
    domains: list[str | None] = [None, host]
    if len(labels) >= 3:
        domains.append(".".join(labels[1:]))
    return domains


def is_ip(host: str) -> bool:
    """Whether the host is an IP address (cookies there have no domain attribute)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def names_to_expire(choices: dict[str, bool], present: list[str], include_named: bool) -> list[str]:
    """Cookie names of refused categories: those present matching a name or pattern, plus exact names if asked."""
    if not present and not include_named:
        return []
    names: set[str] = set()
    for category in current_register().optional:
        if choices.get(category.key):
            continue
        for cookie in category.cookies:
            if not cookie.first_party:
                continue
            names.update(name for name in present if cookie.matches(name))
            if include_named and not cookie.is_pattern:
                names.add(cookie.name)
    return sorted(names)


def expire_cookies(response, names: list[str], host: str) -> None:
    """Add a Set-Cookie that expires each name on every domain a tag may have used."""
    for name in names:
        for domain in cookie_domains(host):
            response.delete_cookie(name, path="/", domain=domain)
