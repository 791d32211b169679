"""The real server as a subprocess on a free port, for fault, concurrency and browser tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

__all__ = ["ServerProcess", "free_port"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    def __init__(
        self, data_dir: Path, site_dir: Path, registry: Path, port: int | None = None, extra_args: tuple[str, ...] = (),
        launcher=None,
    ) -> None:
        """`launcher`: what starts the server instead of `subprocess.Popen`, an object whose
        `popen(argv, env=, stdout=, stderr=)` returns a Popen-like process (the tests'
        fork server, which saves each start its imports)."""
        self.data_dir, self.site_dir, self.registry, self.extra_args = data_dir, site_dir, registry, extra_args
        self.launcher = launcher
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.log = data_dir.parent / f"server-{self.port}.log"

    def start(self, timeout: float = 20) -> ServerProcess:
        command = [
            sys.executable, "-m", "sync_server.cli", "serve", "--port", str(self.port),
            "--data-dir", str(self.data_dir), "--site-dir", str(self.site_dir), "--registry", str(self.registry),
            *self.extra_args,
        ]
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        if self.launcher is not None:
            self.proc = self.launcher.popen(command, env=env, stdout=self.log, stderr=self.log)
        else:
            with open(self.log, "ab") as log:
                self.proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/api/health", timeout=1) as response:
                    if response.status == 200:
                        return self
            except urllib.error.HTTPError as answer:
                if answer.code == 503 and self._health_of(answer) is not None:
                    return self  # serving, with damage to report: the test reads it in `health`
            except OSError:
                time.sleep(0.05)
        self.kill()  # else a slow start outlives the test that gave up on it
        raise RuntimeError("server did not start in time")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def health(self) -> dict:
        """The health answer as a program on the server's machine reads it (with the
        counts), whether all is well (200) or not (503)."""
        try:
            with urllib.request.urlopen(self.url + "/api/health", timeout=5) as response:
                return json.load(response)
        except urllib.error.HTTPError as answer:
            found = self._health_of(answer)
            if found is None:
                raise
            return found

    @staticmethod
    def _health_of(answer: urllib.error.HTTPError) -> dict | None:
        try:
            found = json.load(answer)
        except ValueError:
            return None
        return found if isinstance(found, dict) and "ok" in found else None

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
