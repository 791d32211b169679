"""The server applies the form's rules as the page does, plain and sealed: the shared
vectors in tests/form_vectors.json (the browser half is in tests/e2e/test_form.py and
tests/e2e/test_seal.py).

Plain, a vector goes through `validate_submission`. Sealed, it is sealed as any client
could seal it (the phone too, consent or not) and sent through the real intake: either
the intake refuses it, or the words the office and the command line open are checked by
the same rules (`opened_words_problem`). Either way the verdict is the vector's."""

from __future__ import annotations

import asyncio
import json
import re

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from sync_server.intake.submission import FieldError, opened_words_problem, validate_submission
from sync_server.intake.writer import Intake
from sync_server.sealing import envelope
from sync_server.sealing.keyring import Keyring
from sync_server.stations import StationBook
from sync_server.store.embedded.inbox import Inbox
from tests.conftest import REPO, SAMPLE_REGISTRY
from tests.sync_server.conftest import make_item

VECTORS = json.loads((REPO / "tests" / "form_vectors.json").read_text("utf-8"))["cases"]
LONE = re.compile("[\ud800-\udfff]")
SECTOR = "education-health"  # hebin-primary's, the station of `make_item`


def verdict(error: dict | None) -> str | None:
    """The vector's error kind for a refusal (a FieldError's JSON), None for none."""
    if error is None:
        return None
    if error["field"] in ("feeling", "suggestion"):
        return "empty" if error["code"] == "empty" else "text"
    return error["field"]


def server_verdict(values: dict) -> str | None:
    """The vector's error kind for the server's first refusal, or None when it accepts."""
    try:
        validate_submission(make_item(**{**values, "phone": values["phone"] or None}))
    except FieldError as error:
        return verdict(error.as_json())
    return None


@pytest.fixture(scope="module")
def sealing(tmp_path_factory):
    data = tmp_path_factory.mktemp("vectors") / "data"
    data.mkdir()
    keyring = Keyring(data)
    recovery = keyring.unlock_recovery(keyring.init([SECTOR]))
    return data, keyring.public_keys()[SECTOR], recovery


def sealed_item(values: dict, key: envelope.PublicKey) -> dict:
    """The vector sealed as a client other than the page could seal it: every word and
    the phone as given, whatever the page would have refused first."""
    item = make_item(rating=values["rating"], consent=values["consent"])
    clear = {k: item[k] for k in ("id", "station_id", "created_at", "rating", "consent")}
    sealed = envelope.seal(item, values["feeling"], values["suggestion"], values["phone"] or None, key)
    if LONE.search(values["feeling"] + values["suggestion"]):
        # `seal` (like the page) makes words well formed first; a hostile client need not,
        # and JSON carries a lone surrogate as an escape.
        words = json.dumps({"feeling": values["feeling"], "suggestion": values["suggestion"]}).encode()
        recipient = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), key.point)
        message = envelope._SUITE.encrypt(envelope._pad(words), recipient, info=envelope._info("text", key.kid, item))
        sealed["text"] = envelope._b64(message)
    return {**clear, "sealed": sealed}


def sealed_server_verdict(values: dict, sealing) -> str | None:
    data, key, recovery = sealing

    async def submit(item):
        with Inbox(data) as inbox:
            [result] = await Intake(inbox, StationBook(SAMPLE_REGISTRY), data).submit("d", [item])
            return result.as_json(), inbox.get(item["id"])

    result, record = asyncio.run(submit(sealed_item(values, key)))
    if result["status"] == "rejected":
        return verdict(result["error"])
    private = recovery.private(record["sealed"]["kid"])[1]
    text = envelope.open_text(record, record["sealed"], private)
    phone = envelope.open_phone(record, record["sealed"], private)
    problem = opened_words_problem(record, text.feeling, text.suggestion, phone, well_formed=text.well_formed)
    return verdict(problem.as_json() if problem else None)


@pytest.mark.parametrize("case", VECTORS, ids=[c["name"] for c in VECTORS])
def test_the_server_applies_the_forms_rules_to_plain_words(case):
    assert server_verdict(case["values"]) == case["error"]


@pytest.mark.parametrize("case", VECTORS, ids=[c["name"] for c in VECTORS])
def test_the_server_applies_the_forms_rules_to_sealed_words(case, sealing):
    assert sealed_server_verdict(case["values"], sealing) == case["error"]
