"""seal.js in Chromium against the shared vectors, and sealed in the page, opened in Python."""

from __future__ import annotations

import base64

import pytest

from build_scripts.publish import build_site
from minqing.server_process import ServerProcess
from sync_server.sealing import envelope
from sync_server.sealing.keyring import Keyring
from tests.conftest import MKDOCS_YML, SAMPLE_REGISTRY
from tests.sync_server.sealing.test_envelope import VECTORS, _vector_key


class Keyed:
    def __init__(self, keyring: Keyring, recovery: str, server: ServerProcess) -> None:
        self.keyring, self.recovery, self.server = keyring, recovery, server


@pytest.fixture(scope="module")
def keyed(tmp_path_factory):
    """One built site with the public-order sector's key published, and its server."""
    root = tmp_path_factory.mktemp("sealed")
    keyring = Keyring(root / "data")
    recovery = keyring.init(["public-order"])
    build_site(MKDOCS_YML, SAMPLE_REGISTRY, root / "site", keyring.public_path)
    server = ServerProcess(root / "data", root / "site", SAMPLE_REGISTRY).start()
    yield Keyed(keyring, recovery, server)
    server.stop()

OPEN_VECTORS = """async (vectors) => {
  const seal = await import('/js/seal.js');
  const jwk = vectors.recipient.private_jwk;
  const key = await crypto.subtle.importKey('jwk', {...jwk, ext: true}, {name: 'ECDH', namedCurve: 'P-256'}, false,
                                            ['deriveBits']);
  const point = seal.fromBase64url(vectors.recipient.key);
  const opened = [];
  for (const c of vectors.cases) opened.push(await seal.openSubmission(c.clear, c.sealed, key, point));
  const refused = [];
  for (const f of vectors.failures) {
    try { await seal.openSubmission(f.clear, f.sealed, key, point); refused.push({name: f.name, code: null}); }
    catch (e) { refused.push({name: f.name, code: e.code || String(e), message: e.message}); }
  }
  return {opened, refused, kid: await seal.keyId(point)};
}"""

SEAL_IN_PAGE = """async ([cases, publicKey]) => {
  const seal = await import('/js/seal.js');
  const out = [];
  for (const c of cases) out.push(await seal.sealSubmission(c.clear, c.plain, publicKey));
  return out;
}"""


def test_seal_js_opens_every_vector_and_refuses_every_alteration(keyed, page):
    page.goto(keyed.server.url + "/")
    result = page.evaluate(OPEN_VECTORS, VECTORS)
    assert result["kid"] == VECTORS["recipient"]["kid"]
    assert result["opened"] == [case["plain"] for case in VECTORS["cases"]]
    for failure, refused in zip(VECTORS["failures"], result["refused"], strict=True):
        assert refused["code"] == failure["error"], failure["name"]
        assert "加密" in refused["message"] or "钥匙" in refused["message"]


def test_what_seal_js_seals_python_opens_and_pads_alike(keyed, page):
    page.goto(keyed.server.url + "/")
    cases = VECTORS["cases"]
    sealed = page.evaluate(SEAL_IN_PAGE, [cases, {"kid": VECTORS["recipient"]["kid"], "key": VECTORS["recipient"]["key"]}])
    private = _vector_key()
    for case, box in zip(cases, sealed, strict=True):
        envelope.check_envelope(box)
        opened = envelope.open_text(case["clear"], box, private)
        assert (opened.feeling, opened.suggestion) == (case["plain"]["feeling"], case["plain"]["suggestion"])
        assert envelope.open_phone(case["clear"], box, private) == case["plain"]["phone"]
        for part in ("text", "phone"):
            if box[part] is not None:
                # Same plaintext bytes and padding on both sides: same length (the ephemeral key differs).
                assert len(base64.urlsafe_b64decode(box[part] + "==")) == \
                    len(base64.urlsafe_b64decode(case["sealed"][part] + "=="))


def test_seal_js_refuses_a_key_whose_id_does_not_match(keyed, page):
    page.goto(keyed.server.url + "/")
    bad = {"kid": "0123456789abcdef", "key": VECTORS["recipient"]["key"]}
    code = page.evaluate("""async ([c, k]) => {
      const seal = await import('/js/seal.js');
      try { await seal.sealSubmission(c.clear, c.plain, k); return null; } catch (e) { return e.code; }
    }""", [VECTORS["cases"][0], bad])
    assert code == "bad_key"


SEAL_RECORD = """async (record) => {
  const seal = await import('/js/seal.js');
  const keys = await (await fetch('/keys.json')).json();
  return await seal.sealRecord(record, keys);
}"""


def test_a_record_sealed_with_the_published_keys_holds_no_words_and_opens_in_python(keyed, page):
    page.goto(keyed.server.url + "/")
    record = {"id": "r1", "station_id": "rulin-industrial-park", "created_at": "2026-11-28T01:00:00.000Z",
              "rating": "fair", "consent": True, "feeling": "金丝雀", "suggestion": "建议", "phone": "13912345678"}
    sealed = page.evaluate(SEAL_RECORD, record)
    assert set(sealed) == {"id", "station_id", "created_at", "rating", "consent", "sealed"}
    envelope.check_sealed_record(sealed, keyed.keyring.sector_of(), "public-order")
    _, private = keyed.keyring.unlock_recovery(keyed.recovery).private(sealed["sealed"]["kid"])
    assert envelope.open_text(sealed, sealed["sealed"], private).feeling == "金丝雀"
    assert envelope.open_phone(sealed, sealed["sealed"], private) == "13912345678"


def test_without_a_published_key_for_the_station_the_page_leaves_sealing_to_the_server(keyed, page):
    page.goto(keyed.server.url + "/")
    record = {"id": "r2", "station_id": "jintan-east-bus", "created_at": "2026-11-28T01:00:00.000Z",
              "rating": None, "consent": False, "feeling": "无钥匙", "suggestion": "", "phone": None}
    assert page.evaluate(SEAL_RECORD, record) is None


def test_words_with_a_lone_surrogate_are_sealed_well_formed_and_the_phone_only_with_consent(keyed, page):
    page.goto(keyed.server.url + "/")
    record = {"id": "r3", "station_id": "rulin-industrial-park", "created_at": "2026-11-28T01:00:00.000Z",
              "rating": None, "consent": False, "feeling": "半个", "suggestion": "", "phone": "13912345678"}
    sealed = page.evaluate("""async (record) => {
      const seal = await import('/js/seal.js');
      const keys = await (await fetch('/keys.json')).json();
      return await seal.sealRecord({...record, feeling: record.feeling + '\\ud83d' + '表情'}, keys);
    }""", record)
    assert sealed["sealed"]["phone"] is None
    _, private = keyed.keyring.unlock_recovery(keyed.recovery).private(sealed["sealed"]["kid"])
    raw = base64.urlsafe_b64decode(sealed["sealed"]["text"] + "==")
    plaintext = envelope.open_bytes(private, envelope._info("text", sealed["sealed"]["kid"], sealed), raw)
    assert "半个\ufffd表情" in envelope._unpad(plaintext).decode("utf-8") and b"\\ud83d" not in plaintext
