"""`minqing keys init`: the new keys take effect only once the recovery key has reached
the operator.

The keys are made in memory (`Keyring.prepare`) and the recovery key is written out.
Only once that is known to have worked does `activate` save them; from then on the
server seals to them. Known to have worked, in the two ways that can show it:
- into a regular file (`> recovery.txt`): written, flushed, fsynced and read back from
  the file, holding the key;
- at a terminal: the operator types back the last group of the key (seen, and written
  down), on the terminal itself even when standard input or output is not it
  (`| tee recovery.txt`, `< /dev/null`).
A pipe or a socket with no terminal proves nothing: `| head -n 2` or an ssh session
dropped after the flush takes the key away while the write succeeds. That is refused
before the key is shown. A full disk or a reader that is gone saves nothing either: the
command says so in one line and can be run again, so no key exists that nobody holds.
"""

from __future__ import annotations

import argparse
import io
import os
import stat
import sys
from pathlib import Path

from minqing.registry import load_registry
from sync_server.cli.errors import CommandError
from sync_server.sealing.keyring import Keyring, KeysError
from sync_server.store import open_accounts

__all__ = ["cmd_init", "department_ids"]

TRIES = 3
_AGAIN = "no keys were made; run `minqing keys init` again"


def department_ids(registry: Path) -> list[str]:
    """The registry's departments: each gets a key for the copies of matters dispatched to it."""
    return [department.id for department in load_registry(registry).departments]


def cmd_init(args: argparse.Namespace) -> int:
    keyring = Keyring(args.data_dir)
    pending = keyring.prepare([sector.id for sector in load_registry(args.registry).sectors],
                              departments=department_ids(args.registry))
    stdout_fd = _fd_of(sys.stdout)
    to_file = stdout_fd is not None and stat.S_ISREG(os.fstat(stdout_fd).st_mode)
    terminal = None if to_file else _terminal(stdout_fd)
    if not to_file and terminal is None:
        raise CommandError(f"standard output is {_kind(stdout_fd)}, which cannot show that the recovery key reached you: "
                           "run `minqing keys init > recovery.txt` (copy it to paper, then delete the file) or at a "
                           "terminal; no keys were made.", 2)
    try:
        _hand_over(pending.code, stdout_fd if to_file else None, terminal)
    except OSError as exc:
        _silence_stdout()
        raise CommandError(f"the recovery key could not be written out ({exc.strerror or exc}): {_AGAIN}.") from None
    finally:
        if terminal is not None and terminal[0] is not sys.stdout:
            for stream in terminal:
                stream.close()
    try:
        keyring.activate(pending)
    except OSError as exc:
        raise CommandError(f"the keys could not be saved ({exc.strerror or exc}): {_AGAIN} "
                           "(the recovery key shown opens nothing: destroy it).") from None
    try:
        _after(args, keyring)
    except OSError:
        _silence_stdout()  # the keys are in effect and their recovery key was written out
    return 0


def _fd_of(stream) -> int | None:
    try:
        fd = stream.fileno()
        os.fstat(fd)
    except (AttributeError, ValueError, OSError):
        return None  # closed (`>&-`), or not a file descriptor (a test's capture): it proves nothing
    return fd


def _kind(fd: int | None) -> str:
    if fd is None:
        return "closed or not a file"
    mode = os.fstat(fd).st_mode
    return "a pipe" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "not a file or a terminal"


def _terminal(stdout_fd: int | None) -> tuple[io.TextIOBase, io.TextIOBase] | None:
    """Where to ask for the typed-back group and read it: (ask, answer), or None."""
    if stdout_fd is not None and os.isatty(stdout_fd) and sys.stdin is not None and sys.stdin.isatty():
        return sys.stdout, sys.stdin
    try:
        # The controlling terminal, whatever standard input and output are; none under
        # cron, systemd or `ssh host cmd`. Closed by `cmd_init`.
        ask = open("/dev/tty", "w", encoding="utf-8")
    except OSError:
        return None
    try:
        return ask, open("/dev/tty", encoding="utf-8", errors="replace")
    except OSError:
        ask.close()
        return None


def _hand_over(code: str, file_fd: int | None, terminal) -> None:
    print("RECOVERY KEY - write it on paper now and lock it away; it is shown only this once.")
    print("It opens every sealed record and gives keys to new or locked-out accounts:")
    print()
    print("    " + code)
    print()
    sys.stdout.flush()
    if file_fd is not None:
        os.fsync(file_fd)  # a full disk can accept the write and refuse the data at the sync
        _read_back(file_fd, code)
    else:
        _typed_back(code, *terminal)


def _read_back(fd: int, code: str) -> None:
    # A fresh open of the same file (standard output is often opened write-only).
    try:
        with open(f"/proc/self/fd/{fd}", "rb") as again:
            held = again.read()
    except OSError:
        held = b""
    if ("    " + code).encode() not in held:
        raise KeysError(f"the recovery key could not be read back from the file it was written to: {_AGAIN}")


def _typed_back(code: str, ask, answer) -> None:
    last = code.rsplit("-", 1)[-1]
    for _ in range(TRIES):
        # Asked where the answer is read (input() would ask on standard error).
        print(f"To confirm it is written down, type its last group ({len(last)} characters): ", end="", file=ask, flush=True)
        typed = answer.readline()
        if not typed:
            break
        if "".join(typed.split()).upper().translate(str.maketrans("018", "OIB")) == last:
            return
        print("That is not the last group of the key above.", file=ask, flush=True)
    raise KeysError(f"the recovery key was not confirmed: {_AGAIN}")


def _silence_stdout() -> None:
    # What is still buffered would fail again at exit, with a traceback: let it go nowhere.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (AttributeError, ValueError, OSError, io.UnsupportedOperation):
        pass


def _after(args: argparse.Namespace, keyring: Keyring) -> None:
    print("Sector and department keys made and in effect. Public keys: " + str(keyring.public_path))
    accounts = open_accounts(args.data_dir)
    waiting = [name for name in accounts.names()
               if (account := accounts.get(name)).role in ("staff", "department") and not account.disabled]
    for name in sorted(waiting):
        print(f"'{name}' cannot read sealed records yet: minqing keys grant {name} --recovery")
    print("Rebuild the site (minqing build) so the forms seal to these keys.")
    sys.stdout.flush()
