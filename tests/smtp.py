"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, and can refuse recipients."""

import email
import socket
import threading
from email.message import EmailMessage
from email.policy import default

from aiosmtpd.controller import Controller


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SinkHandler:
    """Keep each message; answer 550 for recipients listed in `refused`."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refused: set[str] = set()
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refused:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=default)
        with self.lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"


class SmtpSink:
    """Start, stop and read a loopback SMTP server; stopping it simulates an outage."""

    def __init__(self) -> None:
        self.port = free_port()
        self.handler = SinkHandler()
        self.controller: Controller | None = None

    def start(self) -> None:
        """Listen on the fixed port."""
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
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
        self.handler.refused.clear()

    @property
    def messages(self) -> list[EmailMessage]:
        """Messages received so far."""
        with self.handler.lock:
            return list(self.handler.messages)

    def to(self, address: str) -> list[EmailMessage]:
        """Messages received for one address."""
        return [m for m in self.messages if address.lower() in m["To"].lower()]

    def refuse(self, address: str) -> None:
        """Answer 550 to that recipient from now on."""
        self.handler.refused.add(address.lower())
