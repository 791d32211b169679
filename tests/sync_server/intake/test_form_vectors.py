"""The server applies the form's limits as the page does: the shared vectors in
tests/form_vectors.json (the browser half is in tests/e2e/test_form.py)."""

from __future__ import annotations

import json

import pytest

from sync_server.intake.submission import FieldError, validate_submission
from tests.conftest import REPO
from tests.sync_server.conftest import make_item

VECTORS = json.loads((REPO / "tests" / "form_vectors.json").read_text("utf-8"))["cases"]


def server_verdict(values: dict) -> str | None:
    """The vector's error kind for the server's first refusal, or None when it accepts."""
    try:
        validate_submission(make_item(**{**values, "phone": values["phone"] or None}))
    except FieldError as error:
        return {"too_long": "text", "empty": "empty"}.get(error.code, error.field)
    return None


@pytest.mark.parametrize("case", VECTORS, ids=[c["name"] for c in VECTORS])
def test_the_server_applies_the_forms_limits(case):
    assert server_verdict(case["values"]) == case["error"]
