"""Whatever a client sends, the batch and form endpoints answer with a status below 500,
promptly, and for a well-formed batch one result per submission.

The alphabet is the hostile one, not hypothesis' default (which leaves surrogates out):
lone surrogates (Cs), noncharacters and unassigned code points (Cn), control, format
and bidi characters, formula prefixes, and integers far past Python's 4,300-digit limit.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from sync_server.app import create_app
from sync_server.web.ratelimit import Limit
from tests.sync_server.conftest import make_item

HOSTILE = [
    "\ud800", "\udbff", "\udc00", "\udfff",  # lone surrogates
    "\ufffe", "\uffff", "\ufdd0", "\ufdef", "\U0001fffe", "\U0010ffff",  # noncharacters
    "\U000e0080", "\U0003ffff", "\u0378",  # unassigned
    "\x00", "\x07", "\x1b", "\x7f", "\x85", "\x9b", "\t", "\r", "\n", "\u2028",  # controls and breaks
    "\u202e", "\u202d", "\u2066", "\u2069", "\u200f", "\u061c", "\u200b", "\ufeff",  # bidi and format
    "=", "+", "-", "@",  # spreadsheet formula prefixes (tab and CR are above)
    "民", "情", "😀", "\U0002a6d6", '"', "\\", "}", "]",
]
CHARACTERS = st.characters(exclude_categories=()) | st.sampled_from(HOSTILE)
TEXT = st.text(alphabet=CHARACTERS, max_size=40)


class Huge:
    """An integer too long for Python to print: dumped as raw digits (see `_dump`)."""

    def __init__(self, digits: int, negative: bool) -> None:
        self.digits, self.negative = digits, negative


HUGE = st.builds(Huge, st.integers(min_value=33, max_value=6000), st.booleans())
_HUGE_MARK = re.compile(r'"\\u0000HUGE(-?)(\d+)\\u0000"')


def _dump(value) -> bytes:
    """JSON as a hostile client writes it: escapes carry lone surrogates, numbers any length."""

    def mark(v):
        if isinstance(v, Huge):
            return f"\x00HUGE{'-' if v.negative else ''}{v.digits}\x00"
        if isinstance(v, dict):
            return {k: mark(x) for k, x in v.items()}
        if isinstance(v, list):
            return [mark(x) for x in v]
        return v

    text = json.dumps(mark(value), ensure_ascii=True)
    return _HUGE_MARK.sub(lambda m: m.group(1) + "9" * int(m.group(2)), text).encode("ascii")


LEAF = (
    st.none() | st.booleans() | st.integers(min_value=-(10**31), max_value=10**31)
    | st.floats(allow_nan=False, allow_infinity=False) | TEXT | HUGE
)
JSON = st.recursive(
    LEAF,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=12,
)
FIELDS = ["id", "station_id", "created_at", "rating", "feeling", "suggestion", "phone", "consent"]
ITEM = st.fixed_dictionaries({}, optional={f: JSON for f in FIELDS}) | JSON
# Derandomized: the same examples on every run, so a failure is the code's, not the seed's.
FUZZ = settings(max_examples=150, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def client(settings):
    # Hundreds of requests in a second: the fuzzing is about input, not about the throttle.
    unthrottled = replace(settings, device_limit=Limit(1e6, 10**6), address_limit=Limit(1e6, 10**6))
    with TestClient(create_app(unthrottled)) as test_client:
        yield test_client


def _post(client, body: bytes):
    return client.post("/api/submissions/batch", content=body, headers={"Content-Type": "application/json"})


def _has_huge(value) -> bool:
    if isinstance(value, Huge):
        return True
    if isinstance(value, dict):
        return any(_has_huge(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_huge(v) for v in value)
    return False


def _answer(response) -> dict:
    assert response.status_code < 500, response.content[:300]
    return json.loads(response.content)  # also proves the body is valid JSON, whatever was echoed


@pytest.mark.timeout(120)
@FUZZ
@given(body=st.binary(max_size=300))
def test_any_bytes_get_an_answer_below_500(client, body):
    assert _answer(_post(client, body))["ok"] in (True, False)


@pytest.mark.timeout(120)
@FUZZ
@given(items=st.lists(ITEM, max_size=5))
def test_any_items_get_one_result_each(client, items):
    answer = _answer(_post(client, _dump({"device_id": "fuzz", "submissions": items})))
    if _has_huge(items):
        assert answer["error"] == "invalid_number"
        return
    results = answer["results"]
    assert len(results) == len(items)
    assert {r["status"] for r in results} <= {"rejected"}
    for item, result in zip(items, results, strict=True):
        sent = item.get("id") if isinstance(item, dict) else None
        assert result["id"] == (sent if isinstance(sent, str) else None)


@pytest.mark.timeout(120)
@FUZZ
@given(field=st.sampled_from(FIELDS), value=JSON)
def test_one_odd_field_never_breaks_the_server(client, field, value):
    answer = _answer(_post(client, _dump({"device_id": "fuzz", "submissions": [make_item(**{field: value})]})))
    if _has_huge(value):
        assert answer["error"] == "invalid_number"
        return
    [result] = answer["results"]
    assert result["status"] in ("accepted", "rejected")


@pytest.mark.timeout(120)
@FUZZ
@given(feeling=TEXT, suggestion=TEXT)
def test_hostile_text_is_stored_exactly_or_refused_as_invalid_text(client, feeling, suggestion):
    item = make_item(feeling=feeling, suggestion=suggestion, rating="fair")
    [result] = _answer(_post(client, _dump({"device_id": "fuzz", "submissions": [item]})))["results"]
    carriable = all(_carriable(t) for t in (feeling, suggestion))
    assert result["status"] == ("accepted" if carriable else "rejected")
    if not carriable:
        assert result["error"]["code"] == "invalid_text"


def _carriable(text: str) -> bool:
    for char in text:
        point = ord(char)
        if 0xD800 <= point <= 0xDFFF or 0xFDD0 <= point <= 0xFDEF or point & 0xFFFE == 0xFFFE:
            return False
        if (point < 0x20 and char not in "\t\n\r") or 0x7F <= point <= 0x9F:
            return False
        if 0x202A <= point <= 0x202E or 0x2066 <= point <= 0x2069 or char in "\u2028\u2029\ufeff":
            return False  # bidi overrides and isolates; line separators and the byte order mark
    return True


@pytest.mark.timeout(120)
@FUZZ
@given(device_id=JSON, kiosk=JSON)
def test_any_device_id_or_kiosk_name_gets_an_answer_below_500(client, device_id, kiosk):
    answer = _answer(_post(client, _dump({"device_id": device_id, "kiosk": kiosk, "submissions": [make_item()]})))
    assert answer["ok"] in (True, False)


FORM_FIELDS = st.dictionaries(
    st.sampled_from(["station_id", "rating", "feeling", "suggestion", "phone", "consent", "form_token", "x"]),
    TEXT,
    max_size=7,
)


@pytest.mark.timeout(120)
@FUZZ
@given(fields=FORM_FIELDS)
def test_any_form_post_gets_a_page_below_500(client, fields):
    # surrogatepass writes what a hostile client can: bytes that are not UTF-8 at all.
    body = urlencode(fields, encoding="utf-8", errors="surrogatepass").encode("ascii")
    response = client.post(
        "/api/submissions/form", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code < 500
