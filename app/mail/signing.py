"""DKIM (RFC 6376): sign each message as sent, relaxed/relaxed, rsa-sha256 and optionally a second ed25519-sha256
signature (RFC 8463); make a key and its DNS record.

RFC 8058 §4: one-click unsubscribe counts only when a DKIM signature covers List-Unsubscribe and
List-Unsubscribe-Post. A field listed here but absent from a message is signed as empty, so nobody can add it.
"""

import base64
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

KEY_BITS = 2048
# From is signed twice (over-signed): a second From added on the way breaks the signature.
SIGNED_HEADERS = ("from", "from", "to", "subject", "date", "message-id", "mime-version", "content-type",
                  "list-id", "list-unsubscribe", "list-unsubscribe-post", "feedback-id")
RSA, ED25519 = b"rsa-sha256", b"ed25519-sha256"
ALGORITHMS = {RSA: "RSA", ED25519: "ed25519"}
TXT_CHUNK = 255  # a DNS TXT record is a list of strings of at most 255 octets each


class SigningError(RuntimeError):
    """The DKIM settings cannot sign (a missing or unreadable key, a missing domain or selector)."""


@dataclass(frozen=True)
class DkimKey:
    """One signing key: its selector, dkimpy's algorithm name and the private key in the form dkimpy reads."""

    selector: str
    algorithm: bytes
    private_key: bytes


@dataclass(frozen=True)
class DkimSigner:
    """Prepends a DKIM-Signature per key to a message's bytes, the RSA one first."""

    domain: str
    keys: tuple[DkimKey, ...]

    def sign(self, data: bytes) -> bytes:
        """The message with its DKIM-Signature headers first, each computed over the message alone."""
        import dkim  # 16 MB with its crypto: loaded by the worker that signs, not by the web or a campaign send

        signatures = [dkim.sign(data, key.selector.encode(), self.domain.encode(), key.private_key,
                                canonicalize=(b"relaxed", b"relaxed"), signature_algorithm=key.algorithm,
                                include_headers=[name.encode() for name in SIGNED_HEADERS]) for key in self.keys]
        return b"".join(signatures) + data


def make_signer() -> DkimSigner | None:
    """The signer when DKIM_SIGNING=app (None when the relay signs, or in development without it)."""
    config = current_app.config
    if config.get("DKIM_SIGNING") != "app":
        return None
    domain, selector, key_file = config["DKIM_DOMAIN"], config["DKIM_SELECTOR"], config["DKIM_PRIVATE_KEY_FILE"]
    if not (domain and selector and key_file):
        raise SigningError("DKIM_SIGNING=app needs DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY_FILE")
    keys = [DkimKey(selector, RSA, read_key(key_file, "DKIM_PRIVATE_KEY_FILE", RSA))]
    second = config.get("DKIM_ED25519_SELECTOR"), config.get("DKIM_ED25519_PRIVATE_KEY_FILE")
    if any(second) and not all(second):
        raise SigningError("DKIM_ED25519_SELECTOR and DKIM_ED25519_PRIVATE_KEY_FILE go together")
    if all(second):
        keys.append(DkimKey(second[0], ED25519, read_key(second[1], "DKIM_ED25519_PRIVATE_KEY_FILE", ED25519)))
    return DkimSigner(domain, tuple(keys))


def read_key(path: str, setting: str, algorithm: bytes) -> bytes:
    """The private key of a PEM file as dkimpy takes it: the PEM for RSA, the base64 of the 32-byte seed for
    ed25519 (RFC 8463); a SigningError naming the setting when it is not such a key."""
    from cryptography.hazmat.primitives import serialization  # here, not on top: see `generate_key`
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    try:
        pem = Path(path).read_bytes()
        key = serialization.load_pem_private_key(pem, password=None)
    except OSError as error:
        raise SigningError(f"cannot read {setting}: {error.strerror}") from error
    except (ValueError, TypeError) as error:
        raise SigningError(f"{setting} is not an unencrypted PEM private key") from error
    if not isinstance(key, ed25519.Ed25519PrivateKey if algorithm == ED25519 else rsa.RSAPrivateKey):
        raise SigningError(f"{setting} is not an {ALGORITHMS[algorithm]} key")
    if algorithm == RSA:
        return pem
    seed = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                             serialization.NoEncryption())
    return base64.b64encode(seed)


def generate_key(path: Path, algorithm: str = "rsa") -> bytes:
    """Write a new private key (2048-bit RSA, or ed25519), PEM and readable by its owner only, and return it;
    never overwrite a key."""
    # cryptography is imported only where a key is read or made: on import it costs every process (each web
    # worker, `flask newsletter send`) about 9 MB of memory for what only these functions use.
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    if algorithm == "ed25519":
        key, layout = ed25519.Ed25519PrivateKey.generate(), serialization.PrivateFormat.PKCS8
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
        layout = serialization.PrivateFormat.TraditionalOpenSSL
    pem = key.private_bytes(serialization.Encoding.PEM, layout, serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("xb") as handle:  # "x": refuse to replace a key that DNS may still publish
        path.chmod(0o600)
        handle.write(pem)
    return pem


def dns_value(private_pem: bytes) -> str:
    """The TXT value to publish for a private key: `v=DKIM1; k=rsa; p=<SubjectPublicKeyInfo>` or, for ed25519,
    `v=DKIM1; k=ed25519; p=<the raw 32-byte public key>` (RFC 8463)."""
    from cryptography.hazmat.primitives import serialization  # here, not on top: see `generate_key`
    from cryptography.hazmat.primitives.asymmetric import ed25519

    public = serialization.load_pem_private_key(private_pem, password=None).public_key()
    if isinstance(public, ed25519.Ed25519PublicKey):
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return f"v=DKIM1; k=ed25519; p={base64.b64encode(raw).decode()}"
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return f"v=DKIM1; k=rsa; p={base64.b64encode(der).decode()}"


def zone_record(selector: str, domain: str, value: str) -> str:
    """The record in zone-file syntax, the value cut into strings of at most 255 characters."""
    chunks = " ".join(f'"{value[i:i + TXT_CHUNK]}"' for i in range(0, len(value), TXT_CHUNK))
    return f"{selector}._domainkey.{domain}. IN TXT ( {chunks} )"
