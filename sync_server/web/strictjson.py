"""Strict JSON for request bodies: what Python's json accepts but a client never means.

Python's json takes NaN and Infinity, keeps the last of duplicate keys, recurses
until the interpreter's limit and raises a bare `ValueError` on an integer past 4,300
digits. Each of those is refused here with an `ApiError`, so bad input is a 400 with a
reason and never a 500. Lone surrogates (`"\\ud800"`) are valid JSON and parse: the
fields that hold text refuse them one item at a time (see `submission`).
"""

from __future__ import annotations

import json
from typing import Any

from sync_server.web.errors import ApiError

__all__ = ["MAX_DEPTH", "parse_json"]

MAX_DEPTH = 8
# No field is a number this long: a JavaScript number has at most 17 significant digits.
MAX_INT_DIGITS = 32


def _no_constants(name: str) -> Any:
    raise ApiError(400, "invalid_number", f"请求中含有无效数值 {name}。")


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        _no_constants(text[:20])
    return value


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ApiError(400, "invalid_number", f"请求中含有超过 {MAX_INT_DIGITS} 位的数字。")
    return int(text)


def _shown(key: str) -> str:
    # A key is echoed in the message: keep it short and encodable whatever it holds.
    return key[:40].encode("utf-8", "backslashreplace").decode("utf-8")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ApiError(400, "duplicate_key", f"请求中的字段“{_shown(key)}”重复出现。")
        result[key] = value
    return result


def _depth_ok(text: str) -> bool:
    # Counted before parsing so deep nesting never reaches the recursive decoder.
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return False
        elif char in "]}":
            depth -= 1
    return True


def parse_json(body: bytes) -> Any:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_utf8", "请求内容不是有效的 UTF-8 编码。") from None
    if not _depth_ok(text):
        raise ApiError(400, "too_deep", f"请求的嵌套层级超过 {MAX_DEPTH} 层。")
    try:
        return json.loads(
            text,
            parse_constant=_no_constants,
            parse_float=_finite,
            parse_int=_bounded_int,
            object_pairs_hook=_unique_keys,
        )
    except json.JSONDecodeError as exc:
        raise ApiError(400, "invalid_json", f"请求不是有效的 JSON（第 {exc.lineno} 行第 {exc.colno} 列）。") from None
    except RecursionError:
        raise ApiError(400, "too_deep", f"请求的嵌套层级超过 {MAX_DEPTH} 层。") from None
    except ValueError:
        # A number the decoder itself cannot convert; never let it become a 500.
        raise ApiError(400, "invalid_number", "请求中含有无法识别的数值。") from None
