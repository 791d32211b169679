"""One submission: the fields a client sends, their limits, and its content fingerprint.

Pure validation, no storage. The same limits are enforced first in the page
(`site/docs/js/form.js`); a test keeps the two in step. A field error names the field
and carries a Chinese sentence the volunteer sees next to the record.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

__all__ = [
    "FieldError",
    "LIMITS",
    "RATINGS",
    "Submission",
    "normalize_phone",
    "validate_submission",
]

RATINGS = ("satisfied", "fair", "dissatisfied")
LIMITS = {"text": 2000, "device_id": 64, "station_id": 48}
# Clocks on tablets drift; a record more than this far in the future is a broken clock.
MAX_CLOCK_SKEW = timedelta(hours=24)
EARLIEST = datetime(2020, 1, 1, tzinfo=timezone.utc)
_PHONE = re.compile(r"^(?:1[3-9]\d{9}|0\d{9,11})$")
_DEVICE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


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

    def fingerprint(self) -> str:
        """Hash of everything the citizen sent: the same id with another fingerprint is a conflict."""
        canonical = json.dumps(asdict(self), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def normalize_phone(raw: str) -> str | None:
    digits = re.sub(r"[\s\-()（）]", "", raw)
    if digits.startswith("+86"):
        digits = digits[3:]
    return digits if _PHONE.match(digits) else None


def _text(item: dict[str, Any], field: str, label: str) -> str:
    value = item.get(field)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise FieldError(field, "type", f"“{label}”必须是文字。")
    value = value.strip()
    if "\x00" in value:
        raise FieldError(field, "invalid", f"“{label}”含有无效字符。")
    if len(value) > LIMITS["text"]:
        raise FieldError(field, "too_long", f"“{label}”最多 {LIMITS['text']} 个字，现在有 {len(value)} 个字。")
    return value


def _created_at(item: dict[str, Any], now: datetime) -> str:
    value = item.get("created_at")
    if not isinstance(value, str) or len(value) > 40:
        raise FieldError("created_at", "required", "缺少提交时间。")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise FieldError("created_at", "invalid", "提交时间格式不正确。") from None
    if moment.tzinfo is None:
        raise FieldError("created_at", "invalid", "提交时间必须带时区。")
    if moment > now + MAX_CLOCK_SKEW:
        raise FieldError("created_at", "future", "提交时间晚于当前时间，请检查设备时钟。")
    if moment < EARLIEST:
        raise FieldError("created_at", "past", "提交时间早于 2020 年，请检查设备时钟。")
    return value


def validate_submission(item: Any, now: datetime) -> Submission:
    """A `Submission` from one client item, or the first `FieldError` found."""
    if not isinstance(item, dict):
        raise FieldError("submission", "type", "每条记录必须是一个对象。")
    raw_id = item.get("id")
    try:
        if not isinstance(raw_id, str) or len(raw_id) != 36:
            raise ValueError
        submission_id = str(uuid.UUID(raw_id))
    except ValueError:
        raise FieldError("id", "invalid", "记录编号必须是 UUID。") from None
    station_id = item.get("station_id")
    if not isinstance(station_id, str) or not station_id or len(station_id) > LIMITS["station_id"]:
        raise FieldError("station_id", "required", "缺少民情哨编号。")
    rating = item.get("rating")
    if rating not in (None, *RATINGS):
        raise FieldError("rating", "invalid", "满意度只能是满意、基本满意或不满意。")
    feeling = _text(item, "feeling", "您的感受")
    suggestion = _text(item, "suggestion", "您的建议")
    if rating is None and not feeling and not suggestion:
        raise FieldError("feeling", "empty", "请至少选择满意度，或写下感受或建议。")
    consent = item.get("consent", False)
    if not isinstance(consent, bool):
        raise FieldError("consent", "type", "同意回访必须是是或否。")
    phone = item.get("phone")
    if phone is not None and not isinstance(phone, str):
        raise FieldError("phone", "type", "电话号码必须是文字。")
    phone = (phone or "").strip() or None
    if phone is not None:
        phone = normalize_phone(phone)
        if phone is None:
            raise FieldError("phone", "invalid", "电话号码格式不正确：请填 11 位手机号或带区号的固定电话。")
        if not consent:
            raise FieldError("consent", "required", "留电话需要勾选同意回访；不想留电话可以清空号码。")
    return Submission(
        id=submission_id,
        station_id=station_id,
        created_at=_created_at(item, now),
        rating=rating,
        feeling=feeling,
        suggestion=suggestion,
        phone=phone,
        consent=consent and phone is not None,
    )


def valid_device_id(value: Any) -> bool:
    return isinstance(value, str) and bool(_DEVICE.match(value))
