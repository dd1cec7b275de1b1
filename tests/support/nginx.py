"""Debian's nginx with the shipped configuration (deploy/nginx.conf) in front of a real gunicorn, each a child process
with its files in a folder of its own; for tests/test_nginx.py and bench/pages_nginx.py."""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
TEMPLATE = ROOT / "deploy" / "nginx.conf"
# The template's variables, the explicit list given to envsubst (nginx's own $variables are left alone).
VARIABLES = ("NGINX_ADDRESS", "NGINX_PORT", "NGINX_SERVER_NAMES", "NGINX_UPSTREAM", "NGINX_CACHE_DIR",
             "NGINX_STATIC_DIR")
MISSING = "Debian's nginx or envsubst is missing: run `make system-deps` (apt-get install nginx gettext-base)"
GUNICORN = Path(sys.executable).parent / "gunicorn"


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def nginx_binary() -> str:
    """Debian's nginx (in /usr/sbin, often outside a user's PATH); fails, never skips, when it is missing."""
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    assert found and shutil.which("envsubst"), MISSING
    return found


def render(values: dict[str, str], extra_servers: str = "") -> str:
    """The template filled by envsubst, with extra `server` blocks (the benchmark's static twin) closing its http
    block."""
    assert set(values) == set(VARIABLES), f"the template's variables are {VARIABLES}"
    listed = " ".join(f"${{{name}}}" for name in VARIABLES)
    text = subprocess.run(["envsubst", listed], input=TEMPLATE.read_text(), env={**os.environ, **values},
                          capture_output=True, text=True, check=True).stdout
    assert "${NGINX_" not in text, "a variable of the template is not in VARIABLES"
    if extra_servers:
        body = text.rstrip()
        assert body.endswith("}"), "the template ends with its http block"
        text = f"{body[:-1]}{extra_servers}}}\n"
    return text


def wait_for_port(port: int, process: subprocess.Popen, what: str, log: Path, timeout: float = 30) -> None:
    """Poll until something accepts connections on the port; fail with the process's log when it stops first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"{what} stopped:\n{log.read_text() if log.exists() else ''}"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"{what} did not start:\n{log.read_text() if log.exists() else ''}")


class Nginx:
    """nginx in the foreground, its configuration, cache, logs and temporary files under `folder`."""

    def __init__(self, folder: Path, upstream: str, server_names: str, extra_servers: str = "") -> None:
        self.binary = nginx_binary()
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.error_log = folder / "error.log"
        (folder / "temp").mkdir(parents=True, exist_ok=True)
        self.conf = folder / "nginx.conf"
        self.conf.write_text(render({
            "NGINX_ADDRESS": "127.0.0.1", "NGINX_PORT": str(self.port), "NGINX_SERVER_NAMES": server_names,
            "NGINX_UPSTREAM": upstream, "NGINX_CACHE_DIR": str(folder / "cache"),
            "NGINX_STATIC_DIR": str(ROOT / "static")}, extra_servers))
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        """nginx as a child process: no daemon, its pid file and error log in its folder."""
        # As root (a container), workers would run as Debian's `nobody`, who cannot read a private temporary folder.
        user = "user root; " if os.geteuid() == 0 else ""
        return [self.binary, "-p", str(self.folder), "-c", str(self.conf), "-e", str(self.error_log), "-g",
                f"daemon off; pid {self.folder / 'nginx.pid'}; error_log {self.error_log}; {user}"]

    def start(self) -> "Nginx":
        """Start nginx and wait until it listens."""
        self.process = subprocess.Popen(self.command(), cwd=self.folder, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.STDOUT)
        wait_for_port(self.port, self.process, "nginx", self.error_log)
        return self

    def stop(self) -> None:
        """Stop nginx (SIGTERM: a fast shutdown) and wait for it."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


class Gunicorn:
    """`gunicorn --config gunicorn.conf.py wsgi:app` (or another app) on a free port, its output in `log`."""

    def __init__(self, env: dict[str, str], log: Path, app: str = "wsgi:app") -> None:
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.log = log
        self.env = {**os.environ, **env, "GUNICORN_BIND": self.address}
        self.app = app
        self.process: subprocess.Popen | None = None

    def start(self) -> "Gunicorn":
        """Start gunicorn and wait until it listens."""
        with self.log.open("ab") as output:
            self.process = subprocess.Popen([str(GUNICORN), "--config", "gunicorn.conf.py", self.app], cwd=ROOT,
                                            env=self.env, stdout=output, stderr=subprocess.STDOUT)
        wait_for_port(self.port, self.process, "gunicorn", self.log)
        return self

    def stop(self) -> None:
        """Stop gunicorn and its workers and wait for them."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
