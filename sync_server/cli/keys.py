"""`minqing keys ...` and the key side of `minqing office add-user | set-password | disable-user`.

Secrets are asked for (getpass) or read one per line from standard input with
`--password-stdin`, never taken as arguments: arguments land in shell history and in
every process listing.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from dataclasses import dataclass
from pathlib import Path

from minqing.registry import load_registry
from sync_server.cli.errors import CommandError
from sync_server.cli.keys_init import cmd_init, department_ids
from sync_server.office.sealed import checked
from sync_server.sealing.envelope import SealError
from sync_server.sealing.keyring import DEPARTMENT, RECOVERY, Keyring, KeysError, Unlocked, access_of
from sync_server.sealing.on_arrival import seal_existing
from sync_server.sealing.unlock import open_record
from sync_server.settings import Settings
from sync_server.stations import StationBook
from sync_server.store import SecretsChange, StoreLocked, changing_secrets, open_accounts, open_store, refuse_backup
from sync_server.store.accounts import Account, AccountError, check_new_password
from sync_server.store.installation import installation_key

__all__ = ["NewPassword", "Secrets", "add_keys_parser", "after_add_user", "after_disable", "before_add_user",
           "before_set_password", "set_password_keys"]


class Secrets:
    """Where secrets come from: prompts, or standard input one per line, in the order asked."""

    def __init__(self, from_stdin: bool) -> None:
        self.from_stdin = from_stdin

    def ask(self, prompt: str, confirm: bool = False) -> str:
        if self.from_stdin:
            line = sys.stdin.readline()
            if not line:
                raise KeysError(f"standard input ended before the {prompt.rstrip(': ')}")
            return line.rstrip("\n")
        first = getpass.getpass(prompt)
        if confirm and first != getpass.getpass("again: "):
            raise KeysError("the two entries differ")
        return first


def _unlocker(keyring: Keyring, args: argparse.Namespace, secrets: Secrets) -> Unlocked:
    # The unlocker's own key is kept for the change that gives keys (see `Unlocked`).
    if getattr(args, "recovery", False):
        return keyring.unlock_recovery(secrets.ask("recovery key: "), keep_own=True)
    by = getattr(args, "by", None)
    if not by:
        raise KeysError("sealed records are on: pass --by STAFF_NAME (an account holding the keys) or --recovery")
    return keyring.unlock(by, secrets.ask(f"password of {by}: "), keep_own=True)


def _sectors(registry: Path) -> list[str]:
    return [sector.id for sector in load_registry(registry).sectors]


def _cmd_rotate(args: argparse.Namespace) -> int:
    made = Keyring(args.data_dir).rotate(_sectors(args.registry), departments=department_ids(args.registry))
    for scope, kid in made.items():
        label = f"department {scope.removeprefix(DEPARTMENT)}" if scope.startswith(DEPARTMENT) else scope
        print(f"{label}: new key {kid}")
    print("Old keys are kept, so older records and department copies still open. Rebuild the site (minqing build).")
    return 0


def _cmd_grant(args: argparse.Namespace) -> int:
    secrets = Secrets(args.password_stdin)
    _active(open_accounts(args.data_dir), args.name)
    by = _unlocker(Keyring(args.data_dir), args, secrets)
    password = secrets.ask(f"password of {args.name} (as they log in): ")
    # Checked again, and the keys given, under the one lock of the secret files.
    with changing_secrets(args.data_dir) as change:
        accounts = open_accounts(args.data_dir, change)
        account = _active(accounts, args.name)
        if accounts.authenticate(args.name, password) is None:
            raise KeysError(f"that is not the password '{args.name}' logs in with")
        Keyring(args.data_dir, change=change).enroll(by, args.name, password,
                                                     access_of(account.role, account.sectors, account.department))
    print(f"grant: {args.name} now holds the keys of {_describe(Keyring(args.data_dir), args.name)}")
    return 0


def _active(accounts, name: str) -> Account:
    account = accounts.get(name)
    if account is None or account.disabled:
        raise KeysError(f"there is no active user '{name}'")
    return account


def _describe(keyring: Keyring, name: str) -> str:
    access = keyring.holders().get(name)
    if access == "*":
        return "every sector and department"
    named = [f"department {a.removeprefix(DEPARTMENT)}" if a.startswith(DEPARTMENT) else a for a in access or []]
    return ", ".join(named) or "no sector"


def _cmd_status(args: argparse.Namespace) -> int:
    keyring = Keyring(args.data_dir)
    if not keyring.exists():
        print("no keys: records are stored as sent (run `minqing keys init` to seal them)")
        return 0
    for sector, key in sorted(keyring.public_keys().items()):
        print(f"sector {sector}: current key {key.kid}")
    departments = keyring.department_keys()
    for department, key in sorted(departments.items()):
        print(f"department {department}: current key {key.kid}")
    keyless = sorted(set(department_ids(args.registry)) - set(departments))
    if keyless:
        print(f"departments without a key (they cannot read dispatched sealed matters): {', '.join(keyless)}; "
              "run `minqing keys rotate`")
    for name in sorted(keyring.holders()):
        label = "recovery key" if name == RECOVERY else name
        print(f"holder {label}: {_describe(keyring, name)}")
    return 0


def _cmd_seal_existing(args: argparse.Namespace) -> int:
    if not Keyring(args.data_dir).exists():
        raise KeysError("there are no keys yet: run `minqing keys init`")
    with open_store(args.data_dir, load_triage=False) as store:
        sealed, left, unknown = seal_existing(store.submissions, StationBook(args.registry),
                                              installation_key(args.data_dir), args.data_dir)
    print(f"sealed {sealed} stored records; {left} left plain (their sector has no key).")
    if unknown:
        print(f"{unknown} left plain: their station is not in the registry; put it back in the registry and run again.")
    print("Old backups still hold the plain records: replace them with a new backup, then destroy them.")
    return 0


def catching(command):
    """A command that reads (inbox list, export, report): key or account errors end in one
    line on stderr and status 2. A backup may be read like any data folder."""
    return _run(command, changes_keys=False)


def _run(command, changes_keys: bool = True):
    def run(args: argparse.Namespace) -> int:
        if changes_keys:
            refuse_backup(args.data_dir)
        try:
            return command(args)
        except (KeysError, AccountError, StoreLocked) as exc:
            raise CommandError(f"{exc}.", 2) from None
    return run


def add_keys_parser(sub, data_dir) -> None:
    keys = sub.add_parser("keys", help="sealed records: sector keys, who holds them, the recovery key")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    init = keys_sub.add_parser("init", help="make one key pair per sector and print the recovery key once (at a terminal, or > FILE)")
    rotate = keys_sub.add_parser("rotate", help="new key pairs for every sector and department (new ones too); old ones kept")
    grant = keys_sub.add_parser("grant", help="give an existing account its keys (a department account: its department's)")
    grant.add_argument("name")
    status = keys_sub.add_parser("status", help="sectors' current keys and who holds what")
    seal_existing = keys_sub.add_parser("seal-existing", help="seal the plain records already stored (server stopped)")
    for action, command in ((init, cmd_init), (rotate, _cmd_rotate), (grant, _cmd_grant), (status, _cmd_status),
                            (seal_existing, _cmd_seal_existing)):
        data_dir(action)
        action.add_argument("--registry", type=Path, default=Settings.registry, help=f"station registry (default: {Settings.registry})")
        action.set_defaults(func=_run(command))
    unlocker_options(grant)
    grant.add_argument("--password-stdin", action="store_true", help="read the secrets from standard input, one a line")


def unlocker_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--by", metavar="STAFF_NAME", help="sealed records: a staff account that holds the keys")
    parser.add_argument("--recovery", action="store_true", help="sealed records: use the recovery key instead")


def reader_options(parser: argparse.ArgumentParser) -> None:
    """`inbox list|export|report`: who opens the sealed records, secrets never as arguments."""
    unlocker_options(parser)
    parser.add_argument("--password-stdin", action="store_true", help="read the password or recovery key from standard input")


LOCKED_TEXT = "（已加密）"


def record_opener(args: argparse.Namespace, with_phone: bool, required: bool):
    """What turns stored records into readable ones for one command: sealed words opened
    in this process's memory with the keys of `--by` or `--recovery`, through the same
    `open_record` as the office pages. Without either, sealed words show as 已加密, or,
    when the command exists to output the words (`required`), the command refuses."""

    def open_all(records: list[dict]) -> list[dict]:
        # Words are checked as they come out, opened or plain: see `office.sealed.checked`.
        return [checked({k: v for k, v in r.items() if k != "_well_formed"}, r.get("feeling") or "",
                        r.get("suggestion") or "", r.get("phone") if with_phone else None, r.get("_well_formed", True))
                for r in _opened(records)]

    def _opened(records: list[dict]) -> list[dict]:
        if not any(isinstance(r.get("sealed"), dict) for r in records):
            return records
        by, recovery = getattr(args, "by", None), getattr(args, "recovery", False)
        locked = {"feeling": LOCKED_TEXT, "suggestion": "", "phone": None}
        if not (by or recovery):
            if required:
                raise KeysError("some records are sealed: pass --by STAFF_NAME or --recovery to read them")
            print("note: sealed records show as 已加密; pass --by STAFF_NAME or --recovery to read them.",
                  file=sys.stderr)
            return [{**r, **locked} if isinstance(r.get("sealed"), dict) else r for r in records]
        unlocked = _unlocker(Keyring(args.data_dir), args, Secrets(args.password_stdin))
        account = open_accounts(args.data_dir).get(by) if by else Account(RECOVERY, "staff", "恢复密钥", (), "", False)
        if account is None:
            raise KeysError(f"there is no account '{by}'")
        sector_of = {s.id: s.sector for s in load_registry(args.registry).stations}.get
        opened = []
        for record in records:
            if not isinstance(record.get("sealed"), dict):
                opened.append(record)
                continue
            try:
                words = open_record(account, unlocked, record, sector_of, with_phone=with_phone)
            except SealError:
                opened.append({**record, **locked})
                continue
            opened.append({**record, "feeling": words.feeling, "suggestion": words.suggestion, "phone": words.phone,
                           "_well_formed": words.well_formed})
        unlocked.forget()
        return opened

    return open_all


# --- hooks for `minqing office ...` -------------------------------------------------------
# Secrets are asked, and checked where that is cheap, before the change; the change itself
# (`office.py` holds it) makes the account's side and the keys' side together.

def before_add_user(args: argparse.Namespace, secrets: Secrets) -> Unlocked | None:
    """With keys on, an account that reads records needs someone to hand it the keys: ask first,
    so a wrong recovery key or password leaves no account behind."""
    keyring = Keyring(args.data_dir)
    if not keyring.exists() or access_of(args.role, []) is None:
        return None
    return _unlocker(keyring, args, secrets)


def after_add_user(args: argparse.Namespace, by: Unlocked | None, password: str, sectors: list[str],
                   change: SecretsChange) -> None:
    if by is not None:
        account = open_accounts(args.data_dir, change).get(args.name)
        department = account.department if account is not None else ""
        Keyring(args.data_dir, change=change).enroll(by, args.name, password, access_of(args.role, sectors, department))


@dataclass
class NewPassword:
    password: str
    current: str | None = None  # the account's own, to lock its keys again
    by: Unlocked | None = None  # or someone holding the keys, for a fresh key pair (a forgotten password)


def before_set_password(args: argparse.Namespace, secrets: Secrets, new_password_asker) -> NewPassword:
    """The secrets a new password needs: with keys held, the current password, or an unlocker."""
    keyring = Keyring(args.data_dir)
    if not (keyring.exists() and args.name in keyring.holders()):
        return NewPassword(new_password_asker())
    if getattr(args, "recovery", False) or getattr(args, "by", None):
        by = _unlocker(keyring, args, secrets)
        password = new_password_asker()
        check_new_password(password)
        return NewPassword(password, by=by)
    current = secrets.ask(f"current password of {args.name}: ")
    password = new_password_asker()
    check_new_password(password)
    return NewPassword(password, current=current)


def set_password_keys(args: argparse.Namespace, asked: NewPassword, change: SecretsChange) -> None:
    """Within the change: the account's keys locked under the new password."""
    keyring = Keyring(args.data_dir, change=change)
    if not (keyring.exists() and args.name in keyring.holders()):
        return  # holds no keys: the password alone
    if asked.by is not None:
        account = open_accounts(args.data_dir, change).get(args.name)
        if account is None:
            raise AccountError(f"there is no user '{args.name}'")
        keyring.enroll(asked.by, args.name, asked.password, access_of(account.role, account.sectors, account.department))
    elif asked.current is not None:
        keyring.rewrap(args.name, asked.current, asked.password)
    else:
        raise KeysError(f"'{args.name}' was given keys while this command ran: run it again")


def after_disable(args: argparse.Namespace, change: SecretsChange) -> None:
    keyring = Keyring(args.data_dir, change=change)
    if keyring.exists():
        keyring.remove(args.name)
