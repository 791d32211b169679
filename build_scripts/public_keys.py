"""`keys.json` at the site root: the sectors' public keys the forms seal to.

Pure: from the registry and the public-key file `minqing keys init | rotate` writes
(`DATA_DIR/keys/public.json`), the bytes of `keys.json`. Without that file the site
publishes no keys and the forms send words as today (the server seals them on arrival
once keys exist). Only public keys ever reach the site: the file is checked to hold
nothing else, and each key id to be its key's hash, so a mix-up fails the build.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from minqing.registry import Registry, RegistryError
from sync_server.sealing.envelope import SealError, key_id

__all__ = ["KEYS_NAME", "load_public_keys", "published_keys_problem", "render_keys_json"]

KEYS_NAME = "keys.json"
_P256_POINT = 65


def load_public_keys(path: Path | None) -> dict[str, dict[str, str]]:
    """sector -> {kid, key}; empty when there is no file (keys not made yet)."""
    if path is None or not Path(path).exists():
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        sectors = data["sectors"]
        if data.get("v") != 1 or not isinstance(sectors, dict):
            raise ValueError
        out = {}
        for sector, entry in sectors.items():
            if set(entry) != {"kid", "key"}:
                raise ValueError
            _check(entry)
            out[sector] = {"kid": entry["kid"], "key": entry["key"]}
        return out
    except (ValueError, KeyError, TypeError, AttributeError, SealError):
        raise RegistryError(str(path), None, "is not a public-key file written by `minqing keys init` (v 1, sectors: "
                            "{kid, key}, each kid the hash of its key).") from None


def _check(entry: dict[str, Any]) -> None:
    import base64

    point = base64.urlsafe_b64decode(entry["key"] + "=" * (-len(entry["key"]) % 4))
    if len(point) != _P256_POINT or point[0] != 4 or key_id(point) != entry["kid"]:
        raise ValueError


def render_keys_json(registry: Registry, public: dict[str, dict[str, str]]) -> bytes:
    """{"v": 1, "keys": {kid: {sector, key}}, "stations": {station id: kid}}; retired
    stations too, since tablets may still hold their records."""
    keys = {entry["kid"]: {"sector": sector, "key": entry["key"]} for sector, entry in sorted(public.items())}
    stations = {s.id: public[s.sector]["kid"] for s in registry.stations if s.sector in public}
    return (json.dumps({"v": 1, "keys": keys, "stations": stations}, sort_keys=True, separators=(",", ":")) + "\n").encode()


def published_keys_problem(published: dict[str, str], current: dict[str, str], source: Path | None,
                           keyring_public: Path) -> str | None:
    """Why a build must not publish `published` (sector -> kid, read from `source`) when
    the keyring's current keys are `current`, as one sentence; None when they are the
    same. Keys that exist but are not published leave the forms sending words in clear
    (kept so on the tablets); old ones keep sealing to a key the office rotated away from."""
    if not current or published == current:
        return None
    if not published:
        return (f"keys exist ({len(current)} sectors) but this build would publish no public keys"
                f"{f' from {source}' if source else ''}: pass --public-keys {keyring_public}.")
    differ = sorted(s for s in set(published) | set(current) if published.get(s) != current.get(s))
    return (f"the public keys in {source} are not the keyring's current ones (sectors {', '.join(differ)}; "
            f"keys init or rotate since?): pass --public-keys {keyring_public}.")
