"""Where a command's output goes: the terminal, made safe, or an owner-only file.

A citizen's words are untrusted (a sealed record carries whatever its sender sealed): on
a terminal an escape sequence would clear the screen, retitle the window or hide lines,
and a bidi override would reorder what the operator reads. So whatever goes to a
terminal has its control and format characters shown as `\\uXXXX` escapes; a pipe or a
file gets the exact bytes (the words that break a rule are already escaped upstream,
see `office.sealed.checked`).
"""

from __future__ import annotations

import os
import re
import sys
import unicodedata
from pathlib import Path

from sync_server.cli.errors import CommandError

__all__ = ["json_safe", "terminal_document", "terminal_safe", "write_output"]

_UNSAFE = ("Cc", "Cf", "Cs", "Zl", "Zp")


def _escape(c: str) -> str:
    return f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08x}"


def terminal_safe(text: str) -> str:
    """Text a citizen wrote, safe to print on a terminal: control characters (escape
    sequences, carriage returns, bidirectional overrides) shown as \\uXXXX escapes."""
    return "".join(_escape(c) if unicodedata.category(c) in _UNSAFE else c for c in text)


_DOCUMENT_BREAKS = re.compile(r"(\r\n|\n|\t)")


def terminal_document(text: str) -> str:
    """A whole document (CSV, HTML) for a terminal: its own line breaks and tabs kept,
    every other control or format character escaped as in `terminal_safe`."""
    return "".join(part if _DOCUMENT_BREAKS.fullmatch(part) else terminal_safe(part)
                   for part in _DOCUMENT_BREAKS.split(text))


def json_safe(dumped: str) -> str:
    """JSON text with every control or format character written as a JSON escape: the
    same value once parsed, nothing a terminal acts on (json.dumps leaves C1 controls,
    bidi overrides and lone surrogates raw). Its own line breaks are outside strings."""
    return "".join(_json_escape(c) if unicodedata.category(c) in _UNSAFE and c != "\n" else c for c in dumped)


def _json_escape(c: str) -> str:
    code = ord(c)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    high, low = divmod(code - 0x10000, 0x400)
    return f"\\u{0xD800 + high:04x}\\u{0xDC00 + low:04x}"


def write_output(data: bytes, output: Path | None) -> None:
    if output is None:
        if sys.stdout.isatty():
            try:
                data = terminal_document(data.decode("utf-8")).encode("utf-8")
            except UnicodeDecodeError:
                raise CommandError("this is a binary file (XLSX), not for a terminal: pass --output FILE.") from None
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        # Reports and exports can hold citizens' words and phones: owner-only, whatever the umask.
        fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        print(f"written: {output}", file=sys.stderr)
