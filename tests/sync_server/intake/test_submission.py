"""The submission rules: what the server stores of the words it accepts."""

from __future__ import annotations

import pytest

from sync_server.intake.submission import validate_submission
from tests.sync_server.conftest import make_item


@pytest.mark.parametrize("sent", ["第一行\r第二行", "第一行\r\n第二行", "第一行\n第二行"])
def test_every_line_break_is_stored_as_lf(sent):
    # A lone CR piped by `inbox export` to a terminal moves back to the line's start and
    # overwrites it; form posts send CRLF. One break, one LF, counted as one character.
    stored = validate_submission(make_item(feeling=sent, suggestion=sent))
    assert stored.feeling == stored.suggestion == "第一行\n第二行"
