"""What must hold of the secret files after any kill or race (issue 20): no key is lost,
and no account is split between two passwords.

- every sector private key that the keyring lists, that a stored record was sealed to,
  or that the current public key (and `public.json`, what the build publishes) names,
  still opens with the recovery key, and every department key the keyring lists too;
- every active staff or department account logs in with one of the passwords it may
  have (the old or the new) and opens its keys with that same password;
- a disabled account, and a name with no account, holds no keys.

Read as the next command reads them: opening the keyring and the accounts first repairs
a change a kill left half applied (that is part of what is checked)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from sync_server.sealing.keyring import RECOVERY, Keyring, KeysError
from sync_server.store.accounts import check_password
from sync_server.store.embedded.accounts import Accounts

__all__ = ["secret_violations"]


def secret_violations(data: Path, recovery: str, passwords: Mapping[str, Iterable[str]],
                      sealed_kids: Iterable[str] = (), changed: Iterable[str] | None = None) -> list[str]:
    """One sentence per broken promise; [] when the secret files are whole. `changed`: the
    accounts whose passwords are tried (all when None); who holds keys is checked for all."""
    problems: list[str] = []
    accounts = Accounts(data)
    keyring = Keyring(data)
    try:
        opener = keyring.unlock_recovery(recovery)
    except KeysError as exc:
        return [f"the recovery key opens nothing: {exc}"]
    current = {sector: key.kid for sector, key in keyring.public_keys().items()}
    needed = set(keyring.sector_of()) | set(current.values()) | set(sealed_kids)
    problems += [f"key {kid} no longer opens with the recovery key" for kid in sorted(needed - set(opener.keys))]
    problems += [f"department key {kid} no longer opens with the recovery key"
                 for kid in sorted(set(keyring.department_of()) - set(opener.departments))]
    published = json.loads((data / "keys" / "public.json").read_text("utf-8"))["sectors"]
    if {sector: entry["kid"] for sector, entry in published.items()} != current:
        problems.append("public.json does not publish the keyring's current keys")
    holders = keyring.holders()
    active = set()
    for name in accounts.names():
        account, record = accounts.get(name), accounts.file.get(name)
        if account.disabled:
            if name in holders:
                problems.append(f"the disabled account '{name}' still holds keys")
            continue
        active.add(name)
        if account.role == "viewer":
            continue
        if name not in holders:
            problems.append(f"'{name}' logs in but holds no keys")
            continue
        if changed is not None and name not in set(changed):
            continue
        logs_in = [p for p in passwords.get(name, ()) if check_password(p, record["password"])]
        if len(logs_in) != 1:
            problems.append(f"'{name}' logs in with none of its passwords")
        else:
            try:
                keyring.unlock(name, logs_in[0])
            except KeysError:
                problems.append(f"'{name}' logs in with one password and its keys open with another")
    problems += [f"'{name}' holds keys but has no active account" for name in holders
                 if name != RECOVERY and name not in active]
    return problems
