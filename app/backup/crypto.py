"""Backup files: encrypted with age (pyrage) to BACKUP_AGE_RECIPIENTS, and signed with the server's Ed25519 key so
that nobody else who knows the public age key can slip a backup of their own into the store."""

import base64
import importlib
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SIGNED = b"kinv-backup-v1\n"  # what a signature covers: this, the file's name and its SHA-256


def pyrage():
    """The age library, imported on first use."""
    return importlib.import_module("pyrage")


def ed25519():
    """cryptography's Ed25519 module, imported on first use."""
    return importlib.import_module("cryptography.hazmat.primitives.asymmetric.ed25519")


def serialization():
    """cryptography's key serialization module, imported on first use."""
    return importlib.import_module("cryptography.hazmat.primitives.serialization")


class BackupKeyError(ValueError):
    """No usable key: the message names the setting to fix."""


class DecryptionFailed(ValueError):
    """The file was not encrypted to our age identity, or was altered or cut."""


class SignatureRefused(ValueError):
    """The backup is unsigned, or not signed by this server's key: it is not opened."""


def recipients(config) -> list:
    """The age public keys backups are encrypted to."""
    if not config.get("BACKUP_AGE_RECIPIENTS"):
        raise BackupKeyError("BACKUP_AGE_RECIPIENTS: set it to encrypt backups (`flask backup keygen`)")
    try:
        return [pyrage().x25519.Recipient.from_str(text) for text in config["BACKUP_AGE_RECIPIENTS"]]
    except pyrage().RecipientError as error:
        raise BackupKeyError("BACKUP_AGE_RECIPIENTS: not age public keys (age1…)") from error


def encrypt(source: BinaryIO, target: BinaryIO, config) -> None:
    """Encrypt a stream to the configured age recipients."""
    pyrage().encrypt_io(source, target, recipients(config))


def identities(config) -> list:
    """The age secret keys in BACKUP_AGE_IDENTITY_FILE."""
    path = config.get("BACKUP_AGE_IDENTITY_FILE")
    if not path or not Path(path).is_file():
        raise BackupKeyError("BACKUP_AGE_IDENTITY_FILE: the age secret key file is needed to read backups")
    lines = Path(path).read_text(encoding="ascii").splitlines()
    return [pyrage().x25519.Identity.from_str(line.strip()) for line in lines if line.startswith("AGE-SECRET-KEY-")]


def decrypt(source: BinaryIO, target: BinaryIO, config) -> None:
    """Decrypt a stream made by `encrypt` into `target`."""
    try:
        pyrage().decrypt_io(source, target, identities(config))
    except pyrage().DecryptError as error:
        raise DecryptionFailed("not decryptable with BACKUP_AGE_IDENTITY_FILE, or altered or cut") from error


def signing_key(config) -> "Ed25519PrivateKey":
    """The server's Ed25519 key (BACKUP_SIGNING_KEY_FILE, PEM)."""
    path = config.get("BACKUP_SIGNING_KEY_FILE")
    if not path or not Path(path).is_file():
        raise BackupKeyError("BACKUP_SIGNING_KEY_FILE: the server's signing key is needed to make backups")
    key = serialization().load_pem_private_key(Path(path).read_bytes(), password=None)
    if not isinstance(key, ed25519().Ed25519PrivateKey):
        raise BackupKeyError("BACKUP_SIGNING_KEY_FILE: not an Ed25519 private key")
    return key


def verifying_key(config) -> "Ed25519PublicKey":
    """The key backups must be signed with: BACKUP_SIGNING_PUBLIC_KEY, or the public half of the signing key."""
    text = config.get("BACKUP_SIGNING_PUBLIC_KEY")
    if not text:
        return signing_key(config).public_key()
    try:
        return ed25519().Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))
    except ValueError as error:
        raise BackupKeyError("BACKUP_SIGNING_PUBLIC_KEY: not an Ed25519 public key in base64") from error


def message(name: str, sha256: str) -> bytes:
    """The bytes a signature covers: the file's name (its date and engine) and its digest."""
    return SIGNED + f"{name}\n{sha256}\n".encode()


def sign(name: str, sha256: str, config) -> str:
    """The signature file's text."""
    return base64.b64encode(signing_key(config).sign(message(name, sha256))).decode() + "\n"


def check_signature(name: str, sha256: str, signature: str, config) -> None:
    """Raise SignatureRefused unless the signature is this server's, over this name and digest."""
    invalid = importlib.import_module("cryptography.exceptions").InvalidSignature
    try:
        verifying_key(config).verify(base64.b64decode(signature.strip(), validate=True), message(name, sha256))
    except (invalid, ValueError) as error:
        raise SignatureRefused(f"{name}: not signed by this server's key (BACKUP_SIGNING_PUBLIC_KEY); "
                               "the file is not opened") from error


def new_keys() -> dict[str, str]:
    """A fresh age identity and Ed25519 signing key, and their public halves."""
    identity, signer = pyrage().x25519.Identity.generate(), ed25519().Ed25519PrivateKey.generate()
    pem = signer.private_bytes(serialization().Encoding.PEM, serialization().PrivateFormat.PKCS8,
                               serialization().NoEncryption())
    raw = signer.public_key().public_bytes(serialization().Encoding.Raw, serialization().PublicFormat.Raw)
    return {"age_identity": str(identity), "age_recipient": str(identity.to_public()),
            "signing_key": pem.decode(), "signing_public_key": base64.b64encode(raw).decode()}
