"""Personal identifiers in the form the site stores them: normalised, keyed-hashed, truncated."""

import hashlib
import hmac
import ipaddress
import re
import unicodedata

import phonenumbers
from flask import current_app


def normalise_email(address: str) -> str:
    """The canonical form of an e-mail address: trimmed, lower-case."""
    return address.strip().lower()


def normalise_phone(number: str, region: str = "FR") -> str | None:
    """The E.164 form of a phone number (French numbers by default), or None when invalid."""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


POSTCODE = re.compile(r"\b\d{5}\b")  # a French postcode: what tells a postal address from any other text
NOT_WORD = re.compile(r"[^0-9A-Z]+")


def normalise_postal_address(address: str) -> str | None:
    """One line the same however it was typed: accents, case, punctuation and line breaks dropped, words kept in
    order (« 12, rue de l'Église\n75001 Paris » → « 12 RUE DE L EGLISE 75001 PARIS »); None without a postcode."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", address) if not unicodedata.combining(c)).upper()
    line = NOT_WORD.sub(" ", plain).strip()
    return line if POSTCODE.search(line) and len(line) <= 300 else None


def keyed_hash(value: str) -> str:
    """HMAC-SHA256 of a normalised identifier, keyed with the server's HASH_KEY (never a bare hash)."""
    key = current_app.config["HASH_KEY"].encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def truncate_ip(address: str | None) -> str | None:
    """The network an address belongs to: IPv4 /24, IPv6 /48 (never the full address)."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return None
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def ip_networks(address: str | None) -> tuple[str, ...]:
    """The networks a visitor's requests are counted in: IPv4 /24; IPv6 /64 and its /48; () when not an address."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return ()
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    prefixes = (24,) if ip.version == 4 else (64, 48)
    return tuple(str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False)) for prefix in prefixes)
