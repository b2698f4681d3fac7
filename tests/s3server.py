"""A local S3-compatible server (moto's server mode) for tests, as pytest fixtures.

The server runs as a child process of the interpreter running the tests (moto.server's `main`,
what `python -m moto.server` runs), so it works anywhere `pip install -e .[dev]` was run, and its
state is separate from any in-process `moto.mock_aws` another test may use. Use in a test module:

    from tests.s3server import aws_isolated, moto_endpoint, s3_env  # noqa: F401
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

import pytest

HOST = "127.0.0.1"
DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}
START_TIMEOUT = 30.0
# `python -m moto.server`, plus a watchdog thread that stops the server when the test process
# dies without tearing it down (killed by a CI timeout), so no orphan keeps the port.
SERVER_CODE = """
import os, sys, threading, time
parent = os.getppid()
def watch():
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)
threading.Thread(target=watch, daemon=True).start()
from moto.server import main
main(sys.argv[1:])
"""


@dataclass
class MotoServer:
    """A running `moto_server` child process."""

    process: subprocess.Popen[bytes]
    port: int
    log: IO[bytes]

    @property
    def endpoint_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def reset(self) -> None:
        """Forget every bucket (moto's reset API)."""
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    def log_tail(self) -> str:
        """The last line the server wrote (its request log goes to a file, not a pipe)."""
        self.log.seek(0)
        lines = self.log.read().decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else "no output"


def free_port() -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _server_env() -> dict[str, str]:
    # The child never needs real credentials; never hand it the developer's.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(DUMMY_CREDENTIALS)
    return env


def start_moto_server(attempts: int = 3) -> MotoServer:
    """Start `python -m moto.server` on a free localhost port and wait until it answers."""
    last_error = ""
    for _ in range(attempts):
        port = free_port()
        # A pipe would fill up with the request log and block the server; use a file.
        log = tempfile.TemporaryFile()  # noqa: SIM115  (owned by MotoServer, closed in stop)
        process = subprocess.Popen(
            [sys.executable, "-c", SERVER_CODE, "-H", HOST, "-p", str(port)],
            env=_server_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        server = MotoServer(process, port, log)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break  # exited: most likely the port was taken in between; try another
            try:
                with urllib.request.urlopen(f"{server.endpoint_url}/moto-api/", timeout=1):
                    return server
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.05)
        last_error = server.log_tail()
        server.stop()
    raise RuntimeError(f"moto server did not start: {last_error}")


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """One moto S3 server per test session (per xdist worker), stopped at the end."""
    server = start_moto_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def aws_isolated(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No AWS_* variable from the developer, no ~/.aws files, no instance metadata lookups."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    missing = tmp_path_factory.getbasetemp() / "no-aws-config"
    monkeypatch.setenv("AWS_CONFIG_FILE", str(missing))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(missing))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def s3_env(aws_isolated: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials for the fake server, for this test only."""
    for name, value in DUMMY_CREDENTIALS.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def moto_endpoint(moto_server: MotoServer, s3_env: None) -> Iterator[str]:
    """The fake server's endpoint URL, with dummy credentials set; buckets are wiped after."""
    yield moto_server.endpoint_url
    moto_server.reset()
