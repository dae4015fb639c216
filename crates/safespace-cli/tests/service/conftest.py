"""Starts `safespace serve` on a free local port for the service tests.

The binary is $SAFESPACE_BIN (`make service-tests` builds it and sets it)."""

import os
import subprocess
import threading

import pytest


class Server:
    """A running `safespace serve`: its base URL, its process and every line it logged."""

    def __init__(self, *args: str):
        binary = os.environ.get("SAFESPACE_BIN", "target/debug/safespace")
        self.process = subprocess.Popen(
            [binary, "serve", "--listen", "127.0.0.1:0", *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.log: list[str] = []
        self.url = None
        for line in self.process.stderr:
            self.log.append(line)
            if "listening on " in line:
                self.url = line.split("listening on ")[1].split()[0]
                break
        assert self.url, "".join(self.log)
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self):
        for line in self.process.stderr:
            self.log.append(line)

    def stop(self) -> int:
        """SIGTERM, then the exit status once it has finished what was in flight."""
        self.process.terminate()
        code = self.process.wait(timeout=30)
        self._reader.join(timeout=5)
        return code


@pytest.fixture
def serve():
    """serve(*args) starts a server with those options; every one started is stopped at the end."""
    started = []

    def start(*args: str) -> Server:
        server = Server(*args)
        started.append(server)
        return server

    yield start
    for server in started:
        if server.process.poll() is None:
            server.stop()
