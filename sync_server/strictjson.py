"""Strict JSON for request bodies: what Python's json accepts but a client never means.

Python's json takes NaN and Infinity, keeps the last of duplicate keys and recurses
until the interpreter's limit. Each of those is refused here with an `ApiError`, so
bad input is a 400 with a reason and never a 500.
"""

from __future__ import annotations

import json
from typing import Any

from .errors import ApiError

__all__ = ["MAX_DEPTH", "parse_json"]

MAX_DEPTH = 8


def _no_constants(name: str) -> Any:
    raise ApiError(400, "invalid_number", f"请求中含有无效数值 {name}。")


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        _no_constants(text[:20])
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ApiError(400, "duplicate_key", f"请求中的字段“{key[:40]}”重复出现。")
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
        return json.loads(text, parse_constant=_no_constants, parse_float=_finite, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        raise ApiError(400, "invalid_json", f"请求不是有效的 JSON（第 {exc.lineno} 行第 {exc.colno} 列）。") from None
    except RecursionError:
        raise ApiError(400, "too_deep", f"请求的嵌套层级超过 {MAX_DEPTH} 层。") from None
