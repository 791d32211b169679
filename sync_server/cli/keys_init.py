"""`minqing keys init`: the new keys take effect only once the recovery key has reached
the operator.

The keys are made in memory (`Keyring.prepare`) and the recovery key is written out.
Only once that is known to have worked does `activate` save them; from then on the
server seals to them. Known to have worked: at a terminal, the operator types back the
last group of the key (seen, and written down); into a file or a pipe, the text was
written and flushed, and fsynced for a file, without an error. A full disk under
`> recovery.txt` or a reader that is gone (`| true`) saves nothing: the command says so
in one line and can be run again, so no key exists that nobody holds.
"""

from __future__ import annotations

import argparse
import io
import os
import stat
import sys

from minqing.registry import load_registry
from sync_server.cli.errors import CommandError
from sync_server.sealing.keyring import Keyring, KeysError
from sync_server.store import open_accounts

__all__ = ["cmd_init"]

TRIES = 3
_AGAIN = "no keys were made; run `minqing keys init` again"


def cmd_init(args: argparse.Namespace) -> int:
    keyring = Keyring(args.data_dir)
    pending = keyring.prepare([sector.id for sector in load_registry(args.registry).sectors])
    try:
        _hand_over(pending.code)
    except OSError as exc:
        _silence_stdout()
        raise CommandError(f"the recovery key could not be written out ({exc.strerror or exc}): {_AGAIN}.") from None
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


def _hand_over(code: str) -> None:
    print("RECOVERY KEY - write it on paper now and lock it away; it is shown only this once.")
    print("It opens every sealed record and gives keys to new or locked-out accounts:")
    print()
    print("    " + code)
    print()
    sys.stdout.flush()
    _fsync_if_file(sys.stdout)
    if sys.stdin.isatty() and sys.stdout.isatty():
        _typed_back(code)


def _fsync_if_file(stream) -> None:
    try:
        fd = stream.fileno()
    except (AttributeError, ValueError, io.UnsupportedOperation):
        return  # not a file descriptor (a test's capture): flushed is all there is
    if stat.S_ISREG(os.fstat(fd).st_mode):
        os.fsync(fd)  # a full disk can accept the write and refuse the data at the sync


def _typed_back(code: str) -> None:
    last = code.rsplit("-", 1)[-1]
    for _ in range(TRIES):
        # Asked on standard output, where the key is (input() would ask on standard error).
        print(f"To confirm it is written down, type its last group ({len(last)} characters): ", end="", flush=True)
        typed = sys.stdin.readline()
        if not typed:
            break
        if "".join(typed.split()).upper().translate(str.maketrans("018", "OIB")) == last:
            return
        print("That is not the last group of the key above.")
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
    print("Sector keys made and in effect. Public keys: " + str(keyring.public_path))
    accounts = open_accounts(args.data_dir)
    waiting = [name for name in accounts.names()
               if (account := accounts.get(name)).role in ("staff", "department") and not account.disabled]
    for name in sorted(waiting):
        print(f"'{name}' cannot read sealed records yet: minqing keys grant {name} --recovery")
    print("Rebuild the site (minqing build) so the forms seal to these keys.")
    sys.stdout.flush()
