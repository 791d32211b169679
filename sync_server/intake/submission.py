"""One submission: the fields a client sends and their limits.

Pure validation, no storage. The limits and the forbidden characters are
`sync_server/words.py`'s; the same rules are enforced first in the page
(`site/docs/js/form.js`); `tests/form_vectors.json`, run through both, plain and sealed,
by `tests/sync_server/intake/test_form_vectors.py`, `tests/e2e/test_form.py` and
`tests/e2e/test_seal.py`, keeps them in step. A field error names the field and carries
a Chinese sentence the volunteer sees next to the record.

Sealed words reach the server unreadable, so the intake checks only the envelope's size
(bounded by these limits, see `sealing/envelope.py`); the office and the command line
check the words they open with `opened_words_problem`, the same rules, and flag them.

Every pattern that must match a whole value is anchored with `\\A` and `\\Z` and
compiled ASCII-only: `$` also matches before a final newline (so `"abc\\n"` would
pass), and `\\d` would accept any script's digits.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sync_server.words import FORBIDDEN, LIMITS, line_breaks_as_lf

__all__ = [
    "FieldError",
    "LIMITS",
    "RATINGS",
    "Submission",
    "clock_skewed",
    "normalize_phone",
    "opened_words_problem",
    "valid_device_id",
    "valid_kiosk",
    "validate_sealed_submission",
    "validate_submission",
]

RATINGS = ("satisfied", "fair", "dissatisfied")
# A tablet's clock drifts or resets (a flat battery brings back 1970). Past these bounds
# the record is still stored, flagged `clock_skew`: the citizen's words never depend on it.
MAX_CLOCK_SKEW = timedelta(hours=24)
EARLIEST = datetime(2020, 1, 1, tzinfo=timezone.utc)
_BEIJING = timezone(timedelta(hours=8))
_PHONE = re.compile(r"\A(?:1[3-9][0-9]{9}|0[0-9]{9,11})\Z", re.ASCII)
_DEVICE = re.compile(r"\A[A-Za-z0-9_-]{1,64}\Z", re.ASCII)
_KIOSK = re.compile(r"\A[A-Za-z0-9_-]{1,64}\Z", re.ASCII)
_STATION = re.compile(r"\A[A-Za-z0-9_-]{1,48}\Z", re.ASCII)
_UUID = re.compile(r"\A[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z", re.ASCII)
# RFC 3339, the ISO 8601 profile every browser's `toISOString()` writes: a full date, a
# time with seconds, an optional fraction and a mandatory offset. No week dates, no
# ordinal dates, no space for the "T", no local times.
_INSTANT = re.compile(
    r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?(?:Z|[+-][0-9]{2}:[0-9]{2})\Z", re.ASCII
)


@dataclass(frozen=True)
class FieldError(Exception):
    field: str
    code: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


@dataclass(frozen=True)
class Submission:
    id: str
    station_id: str
    created_at: str
    rating: str | None
    feeling: str
    suggestion: str
    phone: str | None
    consent: bool


def normalize_phone(raw: str) -> str | None:
    # NFKC turns full-width digits, spaces and brackets (a Chinese keyboard's) into ASCII.
    digits = re.sub(r"[\s\-()]", "", unicodedata.normalize("NFKC", raw))
    if digits.startswith("+86"):
        digits = digits[3:]
    return digits if _PHONE.match(digits) else None


def _carriable(value: str, field: str, label: str) -> str:
    if FORBIDDEN.search(value):
        raise FieldError(field, "invalid_text", f"“{label}”含有无法保存的字符（如残缺的表情符号、控制字符或文字方向控制符），请删除后再提交。")
    return value


def _text(item: dict[str, Any], field: str, label: str) -> str:
    value = item.get(field)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise FieldError(field, "type", f"“{label}”必须是文字。")
    value = line_breaks_as_lf(_carriable(value, field, label)).strip()
    if len(value) > LIMITS["text"]:
        raise FieldError(field, "too_long", f"“{label}”最多 {LIMITS['text']} 个字，现在有 {len(value)} 个字。")
    return value


def _created_at(item: dict[str, Any]) -> str:
    value = item.get("created_at")
    if not isinstance(value, str) or not value:
        raise FieldError("created_at", "required", "缺少提交时间。")
    if not _INSTANT.match(value):
        raise FieldError("created_at", "invalid", "提交时间格式不正确：须为带时区的 ISO 8601 时间。")
    try:
        moment = datetime.fromisoformat(value)
        # An instant at the very edge of the calendar cannot be shown in Beijing time.
        moment.astimezone(timezone.utc), moment.astimezone(_BEIJING)
    except (ValueError, OverflowError):
        raise FieldError("created_at", "invalid", "提交时间不是有效的日期和时刻。") from None
    return value


def _words(item: dict[str, Any]) -> tuple[str, str, str | None, bool]:
    """The words, the phone and the consent of a submission whose rating is checked:
    what a sealed record carries sealed, so the same checks run on what the office opens."""
    feeling = _text(item, "feeling", "您的感受")
    suggestion = _text(item, "suggestion", "您的建议")
    if item.get("rating") is None and not feeling and not suggestion:
        raise FieldError("feeling", "empty", "请至少选择满意度，或写下感受或建议。")
    consent = item.get("consent", False)
    if not isinstance(consent, bool):
        raise FieldError("consent", "type", "同意回访必须是是或否。")
    phone = item.get("phone")
    if phone is not None and not isinstance(phone, str):
        raise FieldError("phone", "type", "电话号码必须是文字。")
    phone = _carriable(phone or "", "phone", "联系电话").strip() or None
    if phone is not None:
        phone = normalize_phone(phone)
        if phone is None:
            raise FieldError("phone", "invalid", "电话号码格式不正确：请填 11 位手机号或带区号的固定电话。")
        if not consent:
            raise FieldError(*_NO_CONSENT)
    return feeling, suggestion, phone, consent


_NO_CONSENT = ("consent", "required", "留电话需要勾选同意回访；不想留电话可以清空号码。")


def opened_words_problem(record: dict[str, Any], feeling: str, suggestion: str, phone: str | None = None,
                         well_formed: bool = True) -> FieldError | None:
    """What is wrong with the words opened from a sealed record, by the rules a plain
    submission meets; None when nothing is. The page checks them before it seals, but
    any client can seal anything the envelope's size allows: opened words are untrusted.
    `phone` is checked when it was opened; `well_formed` is False when the words carried
    lone surrogates, which opening replaced (see `envelope.Opened`)."""
    if not well_formed:
        return FieldError("feeling", "invalid_text", "原话含有无法保存的字符（如残缺的表情符号），已替换显示。")
    item = {"rating": record.get("rating"), "feeling": feeling, "suggestion": suggestion, "phone": phone,
            "consent": bool(record.get("consent"))}
    try:
        _words(item)
    except FieldError as error:
        return error
    return None


def clock_skewed(created_at: str, now: datetime) -> bool:
    """True when a validated `created_at` is too far ahead of `now`, or before the service existed."""
    moment = datetime.fromisoformat(created_at)
    return moment > now + MAX_CLOCK_SKEW or moment < EARLIEST


def validate_submission(item: Any) -> Submission:
    """A `Submission` from one client item, or the first `FieldError` found.

    The id may come in any case; it is stored in canonical lower case, and the answer
    echoes the id exactly as the client sent it (see `intake`).
    """
    if not isinstance(item, dict):
        raise FieldError("submission", "type", "每条记录必须是一个对象。")
    raw_id = item.get("id")
    if not isinstance(raw_id, str) or not _UUID.match(raw_id):
        raise FieldError("id", "invalid", "记录编号必须是 UUID。")
    station_id = item.get("station_id")
    if not isinstance(station_id, str) or not station_id:
        raise FieldError("station_id", "required", "缺少民情哨编号。")
    if not _STATION.match(station_id):
        raise FieldError("station_id", "invalid", "民情哨编号只能由字母、数字、- 或 _ 组成，最多 48 个字符。")
    rating = item.get("rating")
    if rating not in (None, *RATINGS):
        raise FieldError("rating", "invalid", "满意度只能是满意、基本满意或不满意。")
    feeling, suggestion, phone, consent = _words(item)
    return Submission(
        id=raw_id.lower(),
        station_id=station_id,
        created_at=_created_at(item),
        rating=rating,
        feeling=feeling,
        suggestion=suggestion,
        phone=phone,
        consent=consent and phone is not None,
    )


def validate_sealed_submission(item: Any) -> Submission:
    """The clear fields of a browser-sealed item (its words and phone are in `sealed`,
    which `intake_sealing` checks). The id must already be in lower case: it is bound
    into the envelope as the browser sealed it."""
    if not isinstance(item, dict):
        raise FieldError("submission", "type", "每条记录必须是一个对象。")
    if any(item.get(name) not in (None, "") for name in ("feeling", "suggestion", "phone")):
        raise FieldError("sealed", "mixed", "加密记录不能同时带有未加密的文字或电话，请刷新页面后重新提交。")
    consent = item.get("consent", False)
    if not isinstance(consent, bool):
        raise FieldError("consent", "type", "同意回访必须是是或否。")
    # The words are sealed, so "at least one answer" cannot be checked here: a stand-in
    # lets the shared checks run on the clear fields.
    clear = {k: v for k, v in item.items() if k not in ("sealed", "feeling", "suggestion", "phone", "consent")}
    submission = validate_submission({**clear, "feeling": "sealed"})
    if submission.id != item["id"]:
        raise FieldError("id", "invalid", "加密记录的编号必须是小写的 UUID。")
    sealed = item.get("sealed")
    has_phone = isinstance(sealed, dict) and sealed.get("phone") is not None
    if has_phone and not consent:
        raise FieldError(*_NO_CONSENT)
    return Submission(**{**submission.__dict__, "feeling": "", "consent": consent and has_phone})


def valid_device_id(value: Any) -> bool:
    return isinstance(value, str) and bool(_DEVICE.match(value))


def valid_kiosk(value: Any) -> bool:
    """A tablet name the office chose: 1-64 of A-Z, a-z, 0-9, - and _."""
    return isinstance(value, str) and bool(_KIOSK.match(value))
