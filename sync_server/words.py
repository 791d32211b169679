"""The rules a citizen's words follow, in one place: how long they may be and which
characters they may not carry.

Everything that checks or bounds words reads these: the intake's submission rules
(`intake/submission.py`), the envelope's size bound (`sealing/envelope.py`), the check of
words opened in the office and on the command line, and their display. The page's twin
is `site/docs/js/form.js` (`MAX_TEXT`, `FORBIDDEN`), held to these by
`tests/form_vectors.json` and a browser test that compares the two character sets code
point by code point.
"""

from __future__ import annotations

import re

__all__ = ["FORBIDDEN", "LIMITS", "MAX_JSON_BYTES_PER_CHARACTER", "TEXT_LIMIT", "line_breaks_as_lf", "visible"]

# Characters of each of "feeling" and "suggestion", counted as code points after the
# surrounding white space is stripped.
TEXT_LIMIT = 2000
LIMITS = {"text": TEXT_LIMIT, "device_id": 64, "station_id": 48}

# The most bytes one allowed character takes in UTF-8 JSON (what a sealed text carries):
# a character outside the BMP is 4; `"`, `\`, tab and line breaks are escaped to 2; every
# other character JSON would escape to 6 (`\u001b`) is forbidden below.
MAX_JSON_BYTES_PER_CHARACTER = 4

# What UTF-8 cannot carry (lone surrogates), what Unicode reserves as never-a-character
# (noncharacters), control characters other than tab and line breaks (C0, DEL, C1), the
# bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069), which
# reorder what an office worker reads ("Trojan Source"), the line and paragraph
# separators (U+2028, U+2029: a line break to some programs, none to others) and the byte
# order mark (U+FEFF, invisible, and stripped by the page's trim but not the server's).
# None of them is typed by a person, and each breaks storage, exports or terminals
# further on. The marks (LRM, RLM, ALM) and tag characters stay: Uyghur text and flag
# emoji need them, and the office shows every text isolated (`<bdi>`, `dir="auto"`).
_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17)
)
FORBIDDEN = re.compile(f"[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069"
                       f"\\u2028\\u2029\\ufeff\\ud800-\\udfff{_NONCHARACTERS}]")

# CRLF (what a form post sends) and a lone CR (which, piped to a terminal, moves back to
# the start of the line and overwrites it) are each one line break: stored as LF.
_BREAK = re.compile("\r\n?")


def line_breaks_as_lf(text: str) -> str:
    return _BREAK.sub("\n", text)


def visible(text: str) -> str:
    """The words with line breaks as LF and every forbidden character shown as a
    `\\uXXXX` escape: how words that break the rules (or were stored before them) are
    shown in the office and written to files."""
    return FORBIDDEN.sub(_escape, line_breaks_as_lf(text))


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
