"""Transports: SMTP to the relay (one connection for a batch, TLS verified), or .eml files in development."""

import contextlib
import smtplib
import ssl
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app


class TemporaryFailure(Exception):
    """The server could not take the message now; try again later."""


class PermanentFailure(Exception):
    """The server refused the message for good (such as an unknown recipient)."""


def tls_context(ca_file: str = "") -> ssl.SSLContext:
    """Certificate and host-name verification, against the system's CAs or only those of `ca_file`."""
    return ssl.create_default_context(cafile=ca_file or None)


class RepliesKept:
    """smtplib's client, keeping the relay's answer to DATA that `sendmail` drops (it names the relay's queue id)."""

    last_reply = ""

    def data(self, msg):
        """Send the message; keep the answer's text."""
        code, text = super().data(msg)
        self.last_reply = text.decode(errors="replace")[:200]
        return code, text


class Relay(RepliesKept, smtplib.SMTP):
    """A plain (or STARTTLS) connection to the relay."""


class RelaySSL(RepliesKept, smtplib.SMTP_SSL):
    """An implicit-TLS connection to the relay (port 465)."""


@dataclass
class SmtpTransport:
    """Delivers over one SMTP connection, opened on first use and re-opened after an error."""

    host: str
    port: int
    username: str = ""
    password: str = ""
    use_tls: bool = False  # STARTTLS, refusing to go on in clear
    use_ssl: bool = False  # implicit TLS (port 465)
    timeout: float = 10.0
    ca_file: str = ""
    connection: smtplib.SMTP | None = field(default=None, repr=False)
    connections_opened: int = 0

    def send(self, envelope_from: str, recipient: str, data: bytes) -> str:
        """Send one message, classifying errors as temporary or permanent; the relay's answer to the message (which
        names its queue id)."""
        try:
            options = [] if recipient.isascii() else ["SMTPUTF8"]  # the relay must offer it, or nothing is sent
            connection = self.connect()
            connection.sendmail(envelope_from, [recipient], data, mail_options=options)
            return connection.last_reply
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            raise (PermanentFailure if all(c >= 500 for c in codes) else TemporaryFailure)(
                " ".join(f"{code} {text.decode(errors='replace')}" for code, text in error.recipients.values())
            ) from error
        except smtplib.SMTPResponseException as error:
            self.close()
            failure = PermanentFailure if error.smtp_code >= 500 else TemporaryFailure
            raise failure(f"{error.smtp_code} {error.smtp_error.decode(errors='replace')}") from error
        except (OSError, smtplib.SMTPException) as error:
            self.close()
            raise TemporaryFailure(f"{type(error).__name__}: {error}") from error

    def connect(self) -> smtplib.SMTP:
        """Open (once) and return the connection; TLS is verified before any credential or message goes. A socket
        smtplib closed itself (after a 421, the relay leaving) is dropped: the next message gets a new one."""
        if self.connection is not None and self.connection.sock is None:
            self.connection = None
        if self.connection is None:
            if self.use_ssl:
                connection = RelaySSL(self.host, self.port, timeout=self.timeout, context=tls_context(self.ca_file))
            else:
                connection = Relay(self.host, self.port, timeout=self.timeout)
            try:
                if self.use_tls:
                    connection.starttls(context=tls_context(self.ca_file))
                if self.username:
                    connection.login(self.username, self.password)
            except BaseException:
                connection.close()
                raise
            self.connection = connection
            self.connections_opened += 1
        return self.connection

    def close(self) -> None:
        """Close the connection, ignoring a server that is already gone."""
        if self.connection is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self.connection.quit()
            with contextlib.suppress(OSError):
                self.connection.close()
            self.connection = None


@dataclass
class FileTransport:
    """Development without MAIL_SERVER: each message becomes an .eml file."""

    folder: Path

    def send(self, envelope_from: str, recipient: str, data: bytes) -> str:
        """Write the message to a file named after its Message-ID; the file's name."""
        self.folder.mkdir(parents=True, exist_ok=True)
        head = data.split(b"\r\n\r\n", 1)[0].decode("ascii", "replace")
        message_id = next((line.split(":", 1)[1].strip() for line in head.split("\r\n")
                           if line.lower().startswith("message-id:")), "message")
        name = message_id.strip("<>").replace("@", "_at_").replace("/", "_")
        (self.folder / f"{name}.eml").write_bytes(data)
        return f"{name}.eml"

    def close(self) -> None:
        """Nothing to close."""


def make_transport():
    """SMTP when MAIL_SERVER is set, .eml files otherwise."""
    config = current_app.config
    if not config["MAIL_SERVER"]:
        return FileTransport(Path(config["MAIL_FILE_DIR"]))
    return SmtpTransport(
        config["MAIL_SERVER"], config["MAIL_PORT"], config["MAIL_USERNAME"], config["MAIL_PASSWORD"],
        use_tls=config["MAIL_USE_TLS"], use_ssl=config["MAIL_USE_SSL"], timeout=config["MAIL_TIMEOUT"],
        ca_file=config["MAIL_CA_FILE"])
