"""`minqing keys ...` and the key side of `minqing office add-user | set-password | disable-user`.

Secrets are asked for (getpass) or read one per line from standard input with
`--password-stdin`, never taken as arguments: arguments land in shell history and in
every process listing.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from minqing.registry import load_registry
from sync_server.cli.errors import CommandError
from sync_server.office.sealed import checked
from sync_server.sealing.envelope import SealError
from sync_server.sealing.keyring import RECOVERY, Keyring, KeysError, Unlocked, access_of
from sync_server.sealing.on_arrival import seal_existing
from sync_server.sealing.unlock import open_record
from sync_server.settings import Settings
from sync_server.stations import StationBook
from sync_server.store import StoreLocked, open_accounts, open_store, refuse_backup
from sync_server.store.accounts import Account, AccountError, check_new_password
from sync_server.store.installation import installation_key

__all__ = ["add_keys_parser", "after_disable", "before_add_user", "before_set_password", "Secrets"]


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
    if getattr(args, "recovery", False):
        return keyring.unlock_recovery(secrets.ask("recovery key: "))
    by = getattr(args, "by", None)
    if not by:
        raise KeysError("sealed records are on: pass --by STAFF_NAME (an account holding the keys) or --recovery")
    return keyring.unlock(by, secrets.ask(f"password of {by}: "))


def _sectors(registry: Path) -> list[str]:
    return [sector.id for sector in load_registry(registry).sectors]


def _cmd_init(args: argparse.Namespace) -> int:
    keyring = Keyring(args.data_dir)
    code = keyring.init(_sectors(args.registry))
    print("Sector keys made. Public keys: " + str(keyring.public_path))
    print()
    print("RECOVERY KEY - write it on paper now and lock it away; it is shown only this once.")
    print("It opens every sealed record and gives keys to new or locked-out accounts:")
    print()
    print("    " + code)
    print()
    accounts = open_accounts(args.data_dir)
    waiting = [name for name in accounts.names()
               if (account := accounts.get(name)).role in ("staff", "department") and not account.disabled]
    for name in sorted(waiting):
        print(f"'{name}' cannot read sealed records yet: minqing keys grant {name} --recovery")
    print("Rebuild the site (minqing build) so the forms seal to these keys.")
    return 0


def _cmd_rotate(args: argparse.Namespace) -> int:
    made = Keyring(args.data_dir).rotate(_sectors(args.registry))
    for sector, kid in made.items():
        print(f"{sector}: new key {kid}")
    print("Old keys are kept, so older records still open. Rebuild the site (minqing build).")
    return 0


def _cmd_grant(args: argparse.Namespace) -> int:
    keyring, accounts = Keyring(args.data_dir), open_accounts(args.data_dir)
    secrets = Secrets(args.password_stdin)
    account = accounts.get(args.name)
    if account is None or account.disabled:
        raise KeysError(f"there is no active user '{args.name}'")
    by = _unlocker(keyring, args, secrets)
    password = secrets.ask(f"password of {args.name} (as they log in): ")
    if accounts.authenticate(args.name, password) is None:
        raise KeysError(f"that is not the password '{args.name}' logs in with")
    keyring.enroll(by, args.name, password, access_of(account.role, account.sectors))
    print(f"grant: {args.name} now holds the keys of {_describe(keyring, args.name)}")
    return 0


def _describe(keyring: Keyring, name: str) -> str:
    access = keyring.holders().get(name)
    return "every sector" if access == "*" else ", ".join(access or []) or "no sector"


def _cmd_status(args: argparse.Namespace) -> int:
    keyring = Keyring(args.data_dir)
    if not keyring.exists():
        print("no keys: records are stored as sent (run `minqing keys init` to seal them)")
        return 0
    for sector, key in sorted(keyring.public_keys().items()):
        print(f"sector {sector}: current key {key.kid}")
    for name in sorted(keyring.holders()):
        label = "recovery key" if name == RECOVERY else name
        print(f"holder {label}: {_describe(keyring, name)}")
    return 0


def _cmd_seal_existing(args: argparse.Namespace) -> int:
    if not Keyring(args.data_dir).exists():
        raise KeysError("there are no keys yet: run `minqing keys init`")
    with open_store(args.data_dir, load_triage=False) as store:
        sealed, left = seal_existing(store.submissions, StationBook(args.registry), installation_key(args.data_dir), args.data_dir)
    print(f"sealed {sealed} stored records; {left} left plain (their sector has no key).")
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
    init = keys_sub.add_parser("init", help="make one key pair per sector and print the recovery key once")
    rotate = keys_sub.add_parser("rotate", help="new key pairs for every sector; old ones kept for old records")
    grant = keys_sub.add_parser("grant", help="give an existing account the keys of its sectors")
    grant.add_argument("name")
    status = keys_sub.add_parser("status", help="sectors' current keys and who holds what")
    seal_existing = keys_sub.add_parser("seal-existing", help="seal the plain records already stored (server stopped)")
    for action, command in ((init, _cmd_init), (rotate, _cmd_rotate), (grant, _cmd_grant), (status, _cmd_status),
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

def before_add_user(args: argparse.Namespace, secrets: Secrets) -> Unlocked | None:
    """With keys on, an account that reads records needs someone to hand it the keys: ask first,
    so a wrong recovery key or password leaves no account behind."""
    keyring = Keyring(args.data_dir)
    if not keyring.exists() or access_of(args.role, []) is None:
        return None
    return _unlocker(keyring, args, secrets)


def after_add_user(args: argparse.Namespace, by: Unlocked | None, password: str, sectors: list[str]) -> None:
    if by is not None:
        Keyring(args.data_dir).enroll(by, args.name, password, access_of(args.role, sectors))


def before_set_password(args: argparse.Namespace, secrets: Secrets, new_password_asker) -> str:
    """Re-lock the account's keys under the new password (the current one, or an unlocker, is
    asked first); returns the new password for the account file, written after the keys."""
    keyring = Keyring(args.data_dir)
    holds = keyring.exists() and args.name in keyring.holders()
    if not holds:
        return new_password_asker()
    if getattr(args, "recovery", False) or getattr(args, "by", None):
        # A forgotten password: a fresh key pair for the account, from someone who holds the keys.
        by = _unlocker(keyring, args, secrets)
        password = new_password_asker()
        check_new_password(password)
        account = open_accounts(args.data_dir).get(args.name)
        keyring.enroll(by, args.name, password, access_of(account.role, account.sectors))
        return password
    current = secrets.ask(f"current password of {args.name}: ")
    password = new_password_asker()
    check_new_password(password)
    keyring.rewrap(args.name, current, password)
    return password


def after_disable(args: argparse.Namespace) -> None:
    keyring = Keyring(args.data_dir)
    if keyring.exists():
        keyring.remove(args.name)
