"""Python commands started as forks of a process that has already imported them.

The crash harness and the server-kill tests start `python -m sync_server.cli ...` some
thousand times a run, and each start spent a third of a second or more (far more on a
loaded machine) importing the same modules before the command did anything. Here a
server process imports them once; each command is a `fork()` of it that then runs
exactly what `python -m module` or `python -c code` would run, with its own argv,
environment, working folder and standard streams, as its own process: SIGKILL lands on
it alone, and what a kill can interrupt (the command's own work) is unchanged.

`Launcher.popen` returns an object with the `subprocess.Popen` methods the tests use
(`pid`, `poll`, `wait`, `send_signal`, `kill`, `terminate`, `returncode`). A fork
server runs one command at a time; the launcher keeps a small pool, so threads that
start commands at once each get their own.

The fork server is single-threaded and forks only from its main loop, so no lock is held
in a child. It reports a command's exit without reaping it (`waitid(WNOWAIT)`) and reaps
it only before the next start: until the test has seen the exit, the pid cannot be
reused by another process, and a late SIGKILL cannot hit a stranger."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path

from tests.conftest import QUICK_SCRYPT

__all__ = ["Launcher", "build_launcher", "launcher", "quick_cost_launcher"]

# What the tests start: the command line (with everything `serve` and the commands
# import late), and the modules a `python -c` helper of the harness uses.
PRELOAD = (
    "sync_server.cli",
    "sync_server.cli.serve",
    "sync_server.app",
    "uvicorn",
    "sync_server.store.embedded.triagebook",
)

_SERVER = r"""
import importlib, io, json, os, runpy, sys, traceback

def _streams(unbuffered):
    # A fresh interpreter's streams on the child's fds, as `python` would make them.
    encoding, errors = sys.stdout.encoding, sys.stdout.errors
    sys.stdin = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)),
                                 encoding=sys.stdin.encoding, errors=sys.stdin.errors)
    for fd, name in ((1, "stdout"), (2, "stderr")):
        raw = io.FileIO(fd, "w", closefd=False)
        stream = io.TextIOWrapper(raw if unbuffered or fd == 2 else io.BufferedWriter(raw), encoding=encoding,
                                  errors=errors if fd == 1 else "backslashreplace",
                                  write_through=unbuffered or fd == 2, line_buffering=False)
        setattr(sys, name, stream)

def _child(request, control):
    for fd in control:
        os.close(fd)
    if request["stdin"] is None:
        fd0 = os.open(os.devnull, os.O_RDONLY)
    else:
        fd0, writer = os.pipe()
        os.write(writer, request["stdin"].encode())  # a few lines: far below a pipe's buffer
        os.close(writer)
    os.dup2(fd0, 0)
    for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
        target = os.open(path or os.devnull, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        os.dup2(target, fd)
        os.close(target)
    if request["cwd"]:
        os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    _streams(bool(request["env"].get("PYTHONUNBUFFERED")))
    if request["prelude"]:
        exec(compile(request["prelude"], "<prelude>", "exec"), {"__name__": "__prelude__"})
    flag, what, *args = request["argv"]
    code = 0
    try:
        if flag == "-m":
            sys.argv = [what, *args]
            runpy.run_module(what, run_name="__main__", alter_sys=True)
        else:
            sys.argv = ["-c", *args]
            exec(compile(what, "<string>", "exec"), {"__name__": "__main__", "__builtins__": __builtins__})
    except SystemExit as stop:
        if stop.code is None:
            code = 0
        elif isinstance(stop.code, int):
            code = stop.code
        else:
            print(stop.code, file=sys.stderr)
            code = 1
    except BaseException:
        traceback.print_exc()
        code = 1
    try:
        import atexit
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code & 0xFF)

def main():
    for name in sys.argv[1:]:
        importlib.import_module(name)
    control_in, control_out = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    requests = os.fdopen(control_in, "rb")
    previous = None
    os.write(control_out, b"ready\n")
    for line in requests:
        if previous is not None:
            os.waitpid(previous, 0)  # reaped only now: its pid stayed ours until the test saw it end
            previous = None
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(request, (control_in, control_out))
        previous = pid
        os.write(control_out, b"%d\n" % pid)
        status = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
        code = -status.si_status if status.si_code in (os.CLD_KILLED, os.CLD_DUMPED) else status.si_status
        os.write(control_out, b"%d\n" % code)

main()
"""


class ForkServer:
    """One pre-imported Python that starts one command at a time."""

    def __init__(self, preload: Iterable[str]) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", _SERVER, *preload], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, bufsize=0)
        if self._line(timeout=300) != "ready":
            raise RuntimeError("the fork server did not start")

    def _line(self, timeout: float | None) -> str | None:
        """The next line from the server; None if none came within `timeout`."""
        out = self.proc.stdout
        if timeout is not None and not select.select([out], [], [], max(0.0, timeout))[0]:
            return None
        line = out.readline()
        if not line:
            raise RuntimeError(f"the fork server died (exit {self.proc.poll()})")
        return line.decode().strip()

    def start(self, request: dict) -> int:
        self.proc.stdin.write(json.dumps(request).encode() + b"\n")
        return int(self._line(timeout=None))

    def close(self) -> None:
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        self.proc.wait()
        self.proc.stdout.close()


class Forked:
    """A command started by a fork server, used like `subprocess.Popen`."""

    def __init__(self, launcher: Launcher, server: ForkServer, request: dict) -> None:
        self._launcher, self._server = launcher, server
        self.args = request["argv"]
        self.returncode: int | None = None
        self.pid = server.start(request)

    def _collect(self, timeout: float | None) -> int | None:
        if self.returncode is None:
            line = self._server._line(timeout)
            if line is None:
                return None
            self.returncode = int(line)
            self._launcher._release(self._server)
        return self.returncode

    def poll(self) -> int | None:
        return self._collect(0)

    def wait(self, timeout: float | None = None) -> int:
        code = self._collect(timeout)
        if code is None:
            raise subprocess.TimeoutExpired(self.args, timeout)
        return code

    def send_signal(self, signum: int) -> None:
        # Not yet seen to end: not reaped either, so the pid is still this command's.
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        import signal

        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        import signal

        self.send_signal(signal.SIGTERM)


class Launcher:
    """A pool of fork servers for one test process, made as threads need them."""

    def __init__(self, preload: Iterable[str] = PRELOAD, prelude: str = "") -> None:
        """`prelude`: Python code each command runs first, in its own process (a test's
        setting for the commands, as a fixture sets it in the test's process)."""
        self.preload, self.prelude = tuple(preload), prelude
        self._lock = threading.Lock()
        self._idle: list[ForkServer] = []
        self._all: list[ForkServer] = []

    def popen(self, argv: list[str], stdin: str | None = None, env: Mapping[str, str] | None = None,
              cwd: str | Path | None = None, stdout: str | Path | None = None,
              stderr: str | Path | None = None) -> Forked:
        """Start `argv` (`[sys.executable, "-m" | "-c", ...]`); stdin is the text it reads
        (None: /dev/null), stdout and stderr files it appends to (None: /dev/null)."""
        if argv[0] != sys.executable or argv[1] not in ("-m", "-c"):
            raise ValueError(f"only `{sys.executable} -m|-c ...` can be forked: {argv[:2]}")
        request = {"argv": list(argv[1:]), "stdin": stdin, "env": dict(os.environ if env is None else env),
                   "cwd": str(cwd) if cwd else None, "stdout": str(stdout) if stdout else None,
                   "stderr": str(stderr) if stderr else None, "prelude": self.prelude}
        return Forked(self, self._take(), request)

    def run(self, argv: list[str], stdin: str | None = None, env: Mapping[str, str] | None = None,
            cwd: str | Path | None = None, timeout: float | None = None) -> subprocess.CompletedProcess:
        """As `subprocess.run(argv, input=stdin, capture_output=True, text=True)`."""
        import tempfile

        with tempfile.TemporaryDirectory(prefix="forked-") as folder:
            out, err = Path(folder) / "stdout", Path(folder) / "stderr"
            proc = self.popen(argv, stdin, env, cwd, out, err)
            try:
                code = proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                raise
            read = lambda path: path.read_text("utf-8", "replace") if path.exists() else ""  # noqa: E731
            return subprocess.CompletedProcess(argv, code, read(out), read(err))

    def _take(self) -> ForkServer:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        server = ForkServer(self.preload)
        with self._lock:
            self._all.append(server)
        return server

    def _release(self, server: ForkServer) -> None:
        with self._lock:
            self._idle.append(server)

    def close(self) -> None:
        with self._lock:
            servers, self._all, self._idle = self._all, [], []
        for server in servers:
            server.close()


launcher = Launcher()

# The suite's quick password cost (tests/conftest.py's QUICK_SCRYPT) in a forked command,
# `serve` too: for servers whose tests log in but are not about what a log-in costs. Set
# as the `quick_scrypt` fixture sets it in the test's own process; the real `serve` never
# takes the quick cost (sync_server/cli/passwordcost.py), and nothing here changes that.
QUICK_COST = f"""
from sync_server.sealing import keyring
from sync_server.store import accounts
accounts.SCRYPT = keyring.SCRYPT = {QUICK_SCRYPT!r}
accounts.dummy_hash.cache_clear()
"""
quick_cost_launcher = Launcher(prelude=QUICK_COST)

# `minqing build` as well: MkDocs, its theme, Jinja and the QR and poster steps.
build_launcher = Launcher(preload=(
    "sync_server.cli", "build_scripts.publish", "build_scripts.qr", "build_scripts.volunteer",
    "build_scripts.posters", "build_scripts.stylesheets", "mkdocs.commands.build", "mkdocs.config.defaults",
    "mkdocs.structure.nav", "mkdocs.structure.files", "material.plugins.search.plugin", "jinja2", "pygments.lexers",
))
