"""Handing an SMS to Twilio's Messages API (with `requests`), or to a file in development."""

from pathlib import Path
from typing import TYPE_CHECKING

from flask import current_app

from app.urls import site_url

if TYPE_CHECKING:
    import requests

OPTED_OUT = "21610"  # Twilio: the recipient replied STOP to this sender


class TemporaryFailure(Exception):
    """Try again later: Twilio unreachable, 429 or 5xx."""


class PermanentFailure(Exception):
    """Twilio refused this message; `code` is its error code, when it gave one."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class TwilioTransport:
    """POST /2010-04-01/Accounts/{sid}/Messages.json, one message a call; answers Twilio's message SID."""

    def __init__(self, config) -> None:
        self.url = f"{config['TWILIO_API_URL'].rstrip('/')}/2010-04-01/Accounts/{config['TWILIO_ACCOUNT_SID']}" \
                   "/Messages.json"
        self.auth = (config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"])
        service = config["TWILIO_MESSAGING_SERVICE_SID"]
        self.sender = {"MessagingServiceSid": service} if service else {"From": config["TWILIO_FROM"]}
        self.timeout = config["SMS_TIMEOUT"]
        self.callback = site_url("newsletter.sms_status")
        import requests  # loaded by the SMS worker only: about 4 MB a process with urllib3 and charset_normalizer

        self.session = requests.Session()

    def send(self, to: str, body: str) -> str:
        """Hand one message over; raise TemporaryFailure or PermanentFailure."""
        import requests

        data = {"To": to, "Body": body, "StatusCallback": self.callback, **self.sender}
        try:
            response = self.session.post(self.url, data=data, auth=self.auth, timeout=self.timeout)
        except requests.RequestException as error:
            raise TemporaryFailure(f"{type(error).__name__}: Twilio unreachable") from error
        if response.status_code == 429 or response.status_code >= 500:
            raise TemporaryFailure(f"HTTP {response.status_code}")
        answer = parsed(response)
        if response.status_code not in (200, 201) or not answer.get("sid"):
            code = str(answer["code"]) if answer.get("code") is not None else None
            raise PermanentFailure(f"HTTP {response.status_code} code {code}: {answer.get('message', '')}"[:500], code)
        return str(answer["sid"])

    def close(self) -> None:
        """Close the HTTP connections."""
        self.session.close()


def parsed(response: "requests.Response") -> dict:
    """Twilio's JSON answer, or nothing when it is not JSON."""
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


class FileTransport:
    """Development without Twilio: each SMS is written to SMS_FILE_DIR as a text file."""

    def __init__(self, directory: str) -> None:
        self.directory = Path(directory)
        self.count = 0

    def send(self, to: str, body: str) -> str:
        """Write the message; answer a local SID."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self.count += 1
        sid = f"LOCAL{len(list(self.directory.glob('*.txt'))) + 1:06d}"
        (self.directory / f"{sid}.txt").write_text(f"To: {to}\n\n{body}\n", encoding="utf-8")
        return sid

    def close(self) -> None:
        """Nothing to close."""


def make_transport():
    """Twilio when TWILIO_ACCOUNT_SID is set, files otherwise."""
    config = current_app.config
    if config["TWILIO_ACCOUNT_SID"]:
        return TwilioTransport(config)
    return FileTransport(config["SMS_FILE_DIR"])
