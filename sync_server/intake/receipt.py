"""Receipt codes: short, read aloud over the phone, derived from the submission id.

The code is a pure function of the id, so the page shows it the moment a record is
queued, offline. `site/docs/js/receipt.js` is the same function in the browser; a test
holds both to the same vectors. The alphabet leaves out 0, O, 1, I and L, which are
misheard and misread. Ten symbols from 31 give 8e14 codes: at 200,000 records the chance
that any two collide is about 1 in 40,000, and the intake resolves that rare case by
trying the next `attempt` (the server then answers with the code it stored, and the page
shows that one). `receipt.js` knows only attempt 0, the code a page shows offline.
"""

from __future__ import annotations

import unicodedata
import uuid

__all__ = ["ALPHABET", "LENGTH", "receipt_for", "normalize"]

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 10
_SPACE = len(ALPHABET) ** LENGTH
# A large odd step moves a retried code far from the first one.
_STEP = 0x9E3779B97F4A7C15


def receipt_for(submission_id: str, attempt: int = 0) -> str:
    value = (uuid.UUID(submission_id).int + attempt * _STEP) % _SPACE
    symbols = []
    for _ in range(LENGTH):
        value, digit = divmod(value, len(ALPHABET))
        symbols.append(ALPHABET[digit])
    code = "".join(reversed(symbols))
    return f"{code[:5]}-{code[5:]}"


def normalize(text: str) -> str | None:
    """A code as a person typed it (any case, spaces, dashes or other punctuation) in canonical form, or None.
    NFKC first: a code typed with a Chinese input method arrives in full width (５Ｎ２ＰＸ－…)."""
    cleaned = "".join(ch for ch in unicodedata.normalize("NFKC", text).upper() if ch.isalnum())
    if len(cleaned) != LENGTH or any(ch not in ALPHABET for ch in cleaned):
        return None
    return f"{cleaned[:5]}-{cleaned[5:]}"
