"""Encryption of backup files: age (pyrage) to BACKUP_AGE_RECIPIENTS, or AES-256-GCM with BACKUP_KEY in 1 MiB
chunks (each chunk's nonce counts up, the last one is flagged, so a cut or reordered file fails to decrypt)."""

import base64
import os
from typing import BinaryIO

AES_MAGIC = b"KINVAES1"
CHUNK = 1024 * 1024


class BackupKeyError(ValueError):
    """No usable key: the message names the setting to fix."""


class DecryptionFailed(ValueError):
    """The file was not made with our key, or was altered or cut."""


def aes_key(text: str) -> bytes:
    """BACKUP_KEY: 32 random bytes in URL-safe base64 (`flask backup keygen` prints one)."""
    try:
        key = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except ValueError as error:
        raise BackupKeyError("BACKUP_KEY: not URL-safe base64") from error
    if len(key) != 32:
        raise BackupKeyError("BACKUP_KEY: must decode to 32 bytes")
    return key


def new_aes_key() -> str:
    """A fresh BACKUP_KEY."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


def method(config) -> str:
    """Which encryption the settings ask for: age when both are set."""
    if config.get("BACKUP_AGE_RECIPIENTS"):
        return "age"
    if config.get("BACKUP_KEY"):
        return "aes"
    raise BackupKeyError("BACKUP_AGE_RECIPIENTS or BACKUP_KEY: set one to encrypt backups")


def encrypt(source: BinaryIO, target: BinaryIO, config) -> str:
    """Encrypt a stream with the configured method; return the method's name (the file's suffix)."""
    chosen = method(config)
    if chosen == "age":
        import pyrage  # pyrage and cryptography are loaded by the backup commands only (about 9 MB a process)

        try:
            recipients = [pyrage.x25519.Recipient.from_str(r) for r in config["BACKUP_AGE_RECIPIENTS"]]
        except pyrage.RecipientError as error:
            raise BackupKeyError("BACKUP_AGE_RECIPIENTS: not age public keys (age1…)") from error
        pyrage.encrypt_io(source, target, recipients)
    else:
        aes_encrypt(source, target, aes_key(config["BACKUP_KEY"]))
    return chosen


def decrypt(source: BinaryIO, target: BinaryIO, chosen: str, config) -> None:
    """Decrypt a stream made by `encrypt` (age needs BACKUP_AGE_IDENTITY_FILE, AES needs BACKUP_KEY)."""
    if chosen == "age":
        import pyrage

        path = config.get("BACKUP_AGE_IDENTITY_FILE")
        if not path or not os.path.isfile(path):
            raise BackupKeyError("BACKUP_AGE_IDENTITY_FILE: the age secret key file is needed to read age backups")
        with open(path, encoding="ascii") as handle:
            identities = [pyrage.x25519.Identity.from_str(line.strip()) for line in handle
                          if line.strip().startswith("AGE-SECRET-KEY-")]
        try:
            pyrage.decrypt_io(source, target, identities)
        except pyrage.DecryptError as error:
            raise DecryptionFailed("not decryptable with BACKUP_AGE_IDENTITY_FILE") from error
    else:
        aes_decrypt(source, target, aes_key(config.get("BACKUP_KEY") or ""))


def chunks(source: BinaryIO):
    """(chunk, is_last) pairs, reading one chunk ahead."""
    current = source.read(CHUNK)
    while True:
        following = source.read(CHUNK)
        yield current, not following
        if not following:
            return
        current = following


def nonce(prefix: bytes, index: int) -> bytes:
    """A 96-bit nonce: the file's random prefix and the chunk's number."""
    return prefix + index.to_bytes(4, "big")


def aes_encrypt(source: BinaryIO, target: BinaryIO, key: bytes) -> None:
    """AES-256-GCM, chunk by chunk: length-prefixed ciphertexts after a magic and a random nonce prefix."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    cipher, prefix = AESGCM(key), os.urandom(8)
    target.write(AES_MAGIC + prefix)
    for index, (chunk, last) in enumerate(chunks(source)):
        sealed = cipher.encrypt(nonce(prefix, index), chunk, AES_MAGIC + (b"\x01" if last else b"\x00"))
        target.write(len(sealed).to_bytes(4, "big") + sealed)


def aes_decrypt(source: BinaryIO, target: BinaryIO, key: bytes) -> None:
    """The reverse of `aes_encrypt`; any change, cut or reordering raises DecryptionFailed."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if source.read(len(AES_MAGIC)) != AES_MAGIC:
        raise DecryptionFailed("not an AES backup of this site")
    cipher, prefix, index = AESGCM(key), source.read(8), 0
    sealed = read_sealed(source)
    while sealed is not None:
        following = read_sealed(source)
        flag = b"\x01" if following is None else b"\x00"
        try:
            target.write(cipher.decrypt(nonce(prefix, index), sealed, AES_MAGIC + flag))
        except InvalidTag as error:
            raise DecryptionFailed("wrong BACKUP_KEY, or the file was altered or cut") from error
        sealed, index = following, index + 1


def read_sealed(source: BinaryIO) -> bytes | None:
    """The next length-prefixed ciphertext, or None at the end."""
    size = source.read(4)
    if not size:
        return None
    sealed = source.read(int.from_bytes(size, "big"))
    if len(size) < 4 or len(sealed) != int.from_bytes(size, "big"):
        raise DecryptionFailed("the file is cut")
    return sealed
