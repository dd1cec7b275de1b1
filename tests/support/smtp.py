"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, and can refuse recipients.

Each message is kept parsed (`messages`) and as received on the wire (`deliveries`: envelope and raw bytes).
An SmtpSink built with a TLS context speaks STARTTLS (and can require it) or implicit TLS.
"""

import email
import json
import socket
import ssl
import subprocess
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

from aiosmtpd.controller import Controller


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Delivery:
    """One message as it arrived: the client's address and port, the envelope and the raw bytes."""

    peer: tuple
    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes
    tls: bool


class SinkHandler:
    """Keep each message; answer 550 for recipients listed in `refused`."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.deliveries: list[Delivery] = []
        self.refused: set[str] = set()
        self.rejected: set[str] = set()  # recipients whose message is refused after DATA
        self.leaving: set[str] = set()  # recipients answered 421: the server is closing the connection
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refused:
            return "550 5.1.1 No such user here"
        if address.lower() in self.leaving:
            return "421 4.3.2 Service shutting down, closing transmission channel"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if any(address.lower() in self.rejected for address in envelope.rcpt_tos):
            return "554 5.7.1 Message content rejected"
        message = email.message_from_bytes(envelope.content, policy=default)
        delivery = Delivery(tuple(session.peer), envelope.mail_from, tuple(envelope.rcpt_tos),
                            bytes(envelope.original_content or envelope.content),
                            session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None)
        with self.lock:
            self.messages.append(message)
            self.deliveries.append(delivery)
        return "250 Message accepted for delivery"


class SmtpSink:
    """Start, stop and read a loopback SMTP server; stopping it simulates an outage."""

    def __init__(self, tls_context: ssl.SSLContext | None = None, require_starttls: bool = False,
                 implicit_tls: bool = False) -> None:
        self.port = free_port()
        self.handler = SinkHandler()
        self.controller: Controller | None = None
        self.tls_context, self.require_starttls, self.implicit_tls = tls_context, require_starttls, implicit_tls

    def start(self) -> None:
        """Listen on the fixed port."""
        options = {"enable_SMTPUTF8": True}
        if self.tls_context is not None and self.implicit_tls:
            options["ssl_context"] = self.tls_context
        elif self.tls_context is not None:
            options.update(tls_context=self.tls_context, require_starttls=self.require_starttls)
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **options)
        self.controller.start()

    def stop(self) -> None:
        """Stop listening (connections are then refused)."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def clear(self) -> None:
        """Forget received messages and refusals."""
        with self.handler.lock:
            self.handler.messages.clear()
            self.handler.deliveries.clear()
        self.handler.refused.clear()
        self.handler.rejected.clear()
        self.handler.leaving.clear()

    @property
    def messages(self) -> list[EmailMessage]:
        """Messages received so far."""
        with self.handler.lock:
            return list(self.handler.messages)

    @property
    def deliveries(self) -> list[Delivery]:
        """Messages received so far, as they came over the wire."""
        with self.handler.lock:
            return list(self.handler.deliveries)

    def to(self, address: str) -> list[EmailMessage]:
        """Messages received for one address."""
        return [m for m in self.messages if address.lower() in m["To"].lower()]

    def raw_to(self, address: str) -> list[bytes]:
        """The raw bytes of the messages received for one address."""
        return [d.content for d in self.deliveries if address.lower() in (r.lower() for r in d.rcpt_tos)]

    def refuse(self, address: str) -> None:
        """Answer 550 to that recipient from now on."""
        self.handler.refused.add(address.lower())

    def leave_at(self, address: str) -> None:
        """Answer 421 (closing the channel) to that recipient from now on."""
        self.handler.leaving.add(address.lower())

    def reject_content_for(self, address: str) -> None:
        """Answer 554 after the DATA of a message to that recipient from now on."""
        self.handler.rejected.add(address.lower())

    @property
    def connections(self) -> int:
        """How many SMTP connections delivered messages (distinct client ports)."""
        return len({d.peer for d in self.deliveries})


NODE_PARSER = Path(__file__).resolve().parent / "mailparse.mjs"


def parse_with_node(raw: bytes) -> dict:
    """What nodemailer's `mailparser` (npm) reads in the raw message: a reader that is not Python's."""
    result = subprocess.run(["node", str(NODE_PARSER)], input=raw, capture_output=True, check=True, timeout=30,
                            cwd=NODE_PARSER.parent.parent)
    return json.loads(result.stdout)
