"""Write tests/seal_vectors.json: envelopes sealed by sync_server.sealing.envelope, which both
the Python and the JavaScript tests must open (and must refuse when altered).

Run once when the format changes (`python -m tests.make_seal_vectors`); the file is
committed so that a change to either side that breaks old envelopes fails a test.
"""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path

from sync_server.sealing import envelope

OUT = Path(__file__).with_name("seal_vectors.json")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _record(n: int, station: str, rating: str | None) -> dict:
    return {"id": f"0c6a5b3e-4f1d-4c2a-9e7b-00000000000{n}", "station_id": station,
            "created_at": f"2026-11-2{n}T08:1{n}:00.000Z", "rating": rating}


def main() -> None:
    private = envelope.generate_private_key()
    public = envelope.public_key_of(private)
    numbers = private.public_key().public_numbers()
    jwk = {"kty": "EC", "crv": "P-256", "d": _b64(envelope.private_to_bytes(private)),
           "x": _b64(numbers.x.to_bytes(32, "big")), "y": _b64(numbers.y.to_bytes(32, "big"))}
    plains = [
        (_record(1, "rulin-industrial-park", "dissatisfied"),
         {"feeling": "工业园区门口晚上有人收“保护费”，商户不敢说。", "suggestion": "请加强夜间巡逻。", "phone": "13912345678"}),
        (_record(2, "jintan-east-bus", None), {"feeling": "候车厅有人拉客。", "suggestion": "", "phone": None}),
        (_record(3, "hebin-primary", "fair"), {"feeling": "a" * 225, "suggestion": "", "phone": "051982345678"}),
        (_record(4, "hebin-primary", "satisfied"), {"feeling": "a" * 226, "suggestion": "", "phone": None}),
        (_record(5, "rulin-youshan-village", "fair"),
         {"feeling": "😀 \n\t\u0001\u2028 \"引号\" \\ 反斜杠", "suggestion": "\u007f\u00e9", "phone": None}),
        # The longest valid words (see sync_server/words.py): the envelope size bound.
        (_record(6, "rulin-youshan-village", "dissatisfied"), {"feeling": "😀" * 2000, "suggestion": "😀" * 2000, "phone": None}),
    ]
    cases = []
    for clear, plain in plains:
        sealed = envelope.seal(clear, plain["feeling"], plain["suggestion"], plain["phone"], public)
        cases.append({"clear": clear, "plain": plain, "sealed": sealed})

    first, second = cases[0], cases[1]

    def failure(name: str, code: str, clear: dict, sealed: dict) -> dict:
        return {"name": name, "error": code, "clear": clear, "sealed": sealed}

    tampered = copy.deepcopy(first["sealed"])
    raw = bytearray(base64.urlsafe_b64decode(tampered["text"] + "=="))
    raw[100] ^= 0x01
    tampered["text"] = _b64(bytes(raw))
    failures = [
        failure("a flipped bit in the text", "tampered", first["clear"], tampered),
        failure("another record's id", "tampered", {**first["clear"], "id": second["clear"]["id"]}, first["sealed"]),
        failure("another station", "tampered", {**first["clear"], "station_id": "jintan-east-bus"}, first["sealed"]),
        failure("another rating", "tampered", {**first["clear"], "rating": "satisfied"}, first["sealed"]),
        failure("another creation time", "tampered", {**first["clear"], "created_at": "2026-11-21T08:12:00.000Z"},
                first["sealed"]),
        failure("the phone message in the text slot", "tampered", first["clear"],
                {**first["sealed"], "text": first["sealed"]["phone"]}),
        failure("another record's text", "tampered", first["clear"], {**first["sealed"], "text": second["sealed"]["text"]}),
        failure("another key id", "wrong_key", first["clear"], {**first["sealed"], "kid": "0123456789abcdef"}),
    ]
    data = {
        "about": "Sealed-envelope vectors for sync_server/envelope.py and site/docs/js/seal.js; "
                 "written by tests/make_seal_vectors.py. The private key is a test key.",
        "version": envelope.VERSION, "suite": envelope.SUITE,
        "recipient": {**public.as_json(), "private_jwk": jwk},
        "cases": cases, "failures": failures,
    }
    OUT.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT.name}: {len(cases)} cases, {len(failures)} failures")


if __name__ == "__main__":
    main()
