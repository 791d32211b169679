"""Where a command's output goes: the terminal, made safe, or an owner-only file."""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["terminal_safe", "write_output"]


def terminal_safe(text: str) -> str:
    """Text a citizen wrote, safe to print on a terminal: control characters (escape
    sequences, carriage returns, bidirectional overrides) shown as \\uXXXX escapes."""
    import unicodedata

    return "".join(
        f"\\u{ord(c):04x}" if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") else c for c in text
    )


def write_output(data: bytes, output: Path | None) -> None:
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        # Reports and exports can hold citizens' words and phones: owner-only, whatever the umask.
        fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        print(f"written: {output}", file=sys.stderr)
