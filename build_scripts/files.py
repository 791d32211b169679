"""The one way build steps replace a file: write beside it, then rename over it.

A reader (a static host serving the site, a concurrent build reading a cache) sees
the old file or the new one, never half of one. Build output can be rebuilt, so no
fsync: that cost is for the inbox (see sync_server/tinystore.py).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["replace_file"]


def replace_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
