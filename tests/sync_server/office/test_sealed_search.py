"""Search over sealed words (`office/sealed_search.py`): an account finds sealed records
by their words in the sectors whose keys its session unlocked, never in others (a
department's session holds none); the
opened words live in memory only while a session holds their key; the quick-open
copies on disk hold no plain word and spare the next log-in the P-256 work."""

from __future__ import annotations

import re
import threading
import time

import pytest
from starlette.testclient import TestClient

from sync_server.app import create_app
from sync_server.office.sealed import sealed_search_note
from sync_server.office.sealed_search import OpenedWords
from sync_server.sealing import envelope
from sync_server.sealing.keyring import Keyring, Unlocked
from sync_server.sealing.quickopen import QuickCopies
from sync_server.store.embedded.accounts import Accounts
from tests.sync_server.conftest import make_item, post_batch
from tests.sync_server.office.test_pages import PASSWORD, dispatch_in_store, login, seed
from tests.sync_server.office.test_sealed import FAST, SECTORS, _accounts

SCHOOL_WORD = "校门口收费Z3"  # hebin-primary: education-health
PARK_WORD = "园区保护费P8"  # rulin-industrial-park: public-order


@pytest.fixture
def app_with_keys(settings, quick_scrypt):
    _accounts(settings)
    keyring = Keyring(settings.data_dir, scrypt=FAST)
    recovery = keyring.unlock_recovery(keyring.init(SECTORS))
    keyring.enroll(recovery, "amy", PASSWORD, "*")
    keyring.enroll(recovery, "police", PASSWORD, ["public-order"])
    keyring.enroll(recovery, "edu", PASSWORD, ["education-health"])
    # A holder of one sector's key only (staff granted before a sector was added, say):
    # what the per-key life of the opened words is tested with. A department session holds
    # no sector key at all (it reads dispatched matters through copies).
    Accounts(settings.data_dir).add("bob", PASSWORD, "staff", "李干事")
    keyring.enroll(recovery, "bob", PASSWORD, ["education-health"])
    return settings


def _client(settings):
    return TestClient(create_app(settings), base_url="http://127.0.0.1:8000")


def _seed_both(client) -> tuple[dict, dict]:
    school = seed(client, feeling=f"晚上{SCHOOL_WORD}的事", suggestion="请查一查")
    park = seed(client, station_id="rulin-industrial-park", feeling="门口有人收钱", suggestion=f"关于{PARK_WORD}")
    for _ in range(3):
        seed(client, feeling="一切都好")
    dispatch_in_store(client.app.state, school["id"], "education")  # a department reads what is dispatched to it
    return school, park


def _as(client, name: str) -> str:
    client.cookies.clear()
    assert login(client, name).status_code == 303
    client.app.state.opened_words.idle.wait(30)  # the positive signal: every key opened
    return client.cookies.get("mq_office")


def _accounts_of(settings) -> Accounts:
    return Accounts(settings.data_dir)


def _total(client, query: str) -> int:
    return int(re.search(r"共 (\d+) 条", client.get("/office/records?" + query).text).group(1))


def test_staff_find_sealed_records_by_their_words(app_with_keys):
    with _client(app_with_keys) as client:
        school, park = _seed_both(client)
        _as(client, "amy")
        page = client.get("/office/records?q=" + SCHOOL_WORD).text
        assert school["receipt"] in page and "共 1 条" in page
        assert _total(client, "q=" + PARK_WORD) == 1
        assert _total(client, "q=一切都好") == 3
        assert _total(client, "q=没有这句话") == 0


def test_a_department_finds_no_sealed_words_and_a_one_key_holder_only_that_sectors(app_with_keys):
    with _client(app_with_keys) as client:
        school, park = _seed_both(client)
        _as(client, "amy")  # staff hold every key: the shared index has every sector's words
        edu = _as(client, "edu")
        assert _total(client, "q=" + SCHOOL_WORD) == 0  # the record's own sector, never dispatched to it
        state = client.app.state
        unlocked, account = state.session_keys.get(edu), state.accounts.get("edu")
        assert unlocked.keys == {} and state.opened_words.search(unlocked, account.sees_sector, SCHOOL_WORD) == set()
        bob = _as(client, "bob")
        assert _total(client, "q=" + SCHOOL_WORD) == 1
        for query in (f"q={PARK_WORD}", f"q={PARK_WORD}&sector=public-order",
                      f"q={PARK_WORD}&station=rulin-industrial-park"):
            page = client.get("/office/records?" + query).text
            assert "共 0 条" in page and park["receipt"] not in page
        # Nor by calling the search directly with this session's keys.
        unlocked, account = state.session_keys.get(bob), state.accounts.get("bob")
        assert state.opened_words.search(unlocked, account.sees_sector, PARK_WORD) == set()
        assert state.opened_words.search(unlocked, account.sees_sector, SCHOOL_WORD) == {school["id"]}
        # A session with no keys (or an account whose scope shrank) finds nothing sealed.
        assert state.opened_words.search(None, account.sees_sector, SCHOOL_WORD) == set()
        assert state.opened_words.search(unlocked, lambda sector: False, SCHOOL_WORD) == set()


def test_the_words_of_given_records_are_only_those_this_session_may_open(app_with_keys):
    with _client(app_with_keys) as client:
        school, park = _seed_both(client)
        _as(client, "amy")
        bob = _as(client, "bob")  # staff holding the school sector's key only
        state = client.app.state
        unlocked, account = state.session_keys.get(bob), state.accounts.get("bob")
        words = state.opened_words.words_of(unlocked, account.sees_sector, [school["id"], park["id"]])
        assert words == {school["id"]: f"晚上{SCHOOL_WORD}的事\n请查一查".lower()}
        assert state.opened_words.words_of(None, account.sees_sector, [school["id"]]) == {}
        assert state.opened_words.words_of(unlocked, account.sees_sector, []) == {}
        # A department session holds no sector key: it opens nothing of the shared index.
        edu = _as(client, "edu")
        assert state.opened_words.words_of(state.session_keys.get(edu), state.accounts.get("edu").sees_sector,
                                           [school["id"], park["id"]]) == {}


def test_an_account_without_keys_finds_no_sealed_words(app_with_keys):
    with _client(app_with_keys) as client:
        school, _ = _seed_both(client)
        _as(client, "amy")
        _as(client, "nokeys")
        assert _total(client, "q=" + SCHOOL_WORD) == 0
        assert _total(client, "q=" + school["receipt"]) == 1  # its clear receipt still finds it


def test_records_arriving_after_log_in_are_found(app_with_keys):
    with _client(app_with_keys) as client:
        _as(client, "amy")
        later = seed(client, feeling=f"登录之后{SCHOOL_WORD}")
        client.app.state.opened_words.idle.wait(30)
        assert later["receipt"] in client.get("/office/records?q=登录之后").text


def test_the_words_go_when_the_last_session_holding_their_key_ends(app_with_keys):
    with _client(app_with_keys) as client:
        _seed_both(client)
        amy = _as(client, "amy")
        bob = _as(client, "bob")
        state = client.app.state
        words = state.opened_words
        school_kid = Keyring(app_with_keys.data_dir).public_keys()["education-health"].kid
        assert len(words._keys) == len(SECTORS)
        state.sessions.end(amy)  # staff leave: only bob's sector stays opened
        assert set(words._keys) == {school_kid}
        later = state.sessions.clock() + 9 * 3600
        state.sessions.clock = state.session_keys.clock = lambda: later
        state.session_keys.forget_expired()  # what the server does every minute
        assert words._keys == {} and state.session_keys.get(bob) is None


def test_quick_copies_hold_no_plain_words_and_open_the_next_log_in_without_p256(app_with_keys, monkeypatch):
    with _client(app_with_keys) as client:
        school, _ = _seed_both(client)
        _as(client, "amy")
    quick = app_with_keys.data_dir / "quick"
    files = list(quick.glob("*.log"))
    assert len(files) == 2 and oct(quick.stat().st_mode & 0o777) == "0o700"
    for path in files:
        raw = path.read_bytes()
        assert SCHOOL_WORD.encode() not in raw and PARK_WORD.encode() not in raw and oct(path.stat().st_mode & 0o777) == "0o600"

    def no_p256(*args, **kwargs):
        raise AssertionError("opened an envelope although a quick copy was there")

    monkeypatch.setattr("sync_server.office.sealed_search.open_texts", no_p256)
    with _client(app_with_keys) as client:
        _as(client, "amy")
        assert school["receipt"] in client.get("/office/records?q=" + SCHOOL_WORD).text


def test_a_quick_copy_cut_short_by_a_crash_is_opened_again_from_the_envelopes(app_with_keys):
    with _client(app_with_keys) as client:
        school, _ = _seed_both(client)
        _as(client, "amy")
    school_kid = Keyring(app_with_keys.data_dir).public_keys()["education-health"].kid
    path = QuickCopies(app_with_keys.data_dir).path(school_kid)
    whole = path.read_bytes().count(b"\n")  # one line a record
    path.write_bytes(path.read_bytes()[:-40])  # the kill came mid-write
    with _client(app_with_keys) as client:
        _as(client, "amy")
        assert school["receipt"] in client.get("/office/records?q=" + SCHOOL_WORD).text
    lines = path.read_bytes().split(b"\n")
    # The whole lines, the cut one, then its record's fresh, whole one.
    assert lines[-1] == b"" and len(lines) == whole + 2


def test_the_list_says_how_far_the_search_has_got_while_it_opens(tmp_path):
    private = envelope.generate_private_key()
    public = envelope.public_key_of(private)
    clear = {"station_id": "hebin-primary", "created_at": "2026-11-28T08:00:00Z", "rating": "fair"}
    records = {}
    for n in range(3):
        record = {**clear, "id": f"r{n}"}
        records[record["id"]] = {**record, "sealed": envelope.seal(record, f"第{n}条", "", None, public)}
    gate = threading.Event()

    def fetch(ids):
        gate.wait(30)
        return {i: records[i] for i in ids}

    words = OpenedWords(fetch)
    words.records_added(records.values())
    unlocked = Unlocked("amy", {public.kid: ("education-health", private)})
    words.session_unlocked("token", unlocked)
    progress = words.progress(unlocked, lambda sector: True)
    assert (progress.opened, progress.total) == (0, 3)
    assert "已完成 0 / 3 条" in sealed_search_note(progress)
    gate.set()
    assert words.idle.wait(30)
    assert sealed_search_note(words.progress(unlocked, lambda sector: True)) is None
    assert words.search(unlocked, lambda sector: True, "第1条") == {"r1"}


def test_a_session_pushed_out_by_too_many_log_ins_takes_its_keys_and_words_with_it(app_with_keys):
    from sync_server.office.auth import MAX_SESSIONS_PER_USER

    with _client(app_with_keys) as client:
        _seed_both(client)
        first = _as(client, "edu")
        for _ in range(MAX_SESSIONS_PER_USER):
            client.cookies.clear()
            assert login(client, "edu").status_code == 303
        state = client.app.state
        assert state.session_keys.get(first) is None
        assert first not in state.opened_words._sessions


@pytest.mark.parametrize("change", ["disable", "set_password"])
def test_a_disabled_or_repassworded_accounts_keys_and_words_go_within_the_sweep(app_with_keys, monkeypatch, change):
    # `disable-user` and `set-password` run in another process: the server learns of them
    # only by reading the accounts file. Nobody comes back with that session's cookie, so
    # the minute's sweep must end it, not only the 8-hour expiry.
    monkeypatch.setattr("sync_server.app.KEY_EXPIRY_EVERY_S", 0.05)
    with _client(app_with_keys) as client:
        _seed_both(client)
        bob = _as(client, "bob")
        state = client.app.state
        assert state.opened_words._keys
        accounts = _accounts_of(app_with_keys)
        accounts.disable("bob") if change == "disable" else accounts.set_password("bob", "another-long-password-9")
        deadline = time.monotonic() + 30
        while (state.opened_words._keys or state.session_keys.get(bob) is not None) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert state.opened_words._keys == {} and state.session_keys.get(bob) is None


def test_a_logout_during_the_first_open_stops_it_at_the_next_batch(tmp_path, monkeypatch):
    # The opener's pass holds the sector's private key: it must let go when the last
    # session holding that key ends, not after reading every remaining segment.
    monkeypatch.setattr("sync_server.office.sealed_search.BATCH", 1)
    private = envelope.generate_private_key()
    public = envelope.public_key_of(private)
    clear = {"station_id": "hebin-primary", "created_at": "2026-11-28T08:00:00Z", "rating": "fair"}
    records = {}
    for n in range(5):
        record = {**clear, "id": f"r{n}"}
        records[record["id"]] = {**record, "sealed": envelope.seal(record, f"第{n}条", "", None, public)}
    reading, gate, fetched = threading.Event(), threading.Event(), []

    def fetch(ids):
        fetched.append(ids)
        reading.set()
        gate.wait(30)
        return {i: records[i] for i in ids}

    words = OpenedWords(fetch)
    words.records_added(records.values())
    words.session_unlocked("token", Unlocked("amy", {public.kid: ("education-health", private)}))
    assert reading.wait(30)
    words.session_ended("token")
    gate.set()
    assert words.idle.wait(30)
    assert len(fetched) == 1


def test_a_session_ended_while_its_log_in_unlocks_keeps_no_keys(app_with_keys):
    # Unlocking takes scrypt's second, off the event loop; the session can end meanwhile
    # (pushed out by the same user's other log-ins, or swept after disable-user).
    with _client(app_with_keys) as client:
        _seed_both(client)
        state = client.app.state
        real = state.session_keys.unlock
        ended = []

        def unlock_after_the_session_ended(token, *args):
            state.sessions.end(token)
            ended.append(token)
            return real(token, *args)

        state.session_keys.unlock = unlock_after_the_session_ended
        assert login(client, "edu").status_code == 303
        state.opened_words.idle.wait(30)
        assert state.session_keys.get(ended[0]) is None
        assert state.opened_words._keys == {} and state.opened_words._sessions == {}


def test_records_sealed_to_a_key_made_after_log_in_are_named_not_silently_missed(app_with_keys):
    # `keys rotate` runs beside the server: a session unlocked before it holds no new key,
    # so a search cannot find what arrives sealed to one. The list says so (for the
    # account's own sectors only) instead of answering "0 条" as if the search were whole.
    with _client(app_with_keys) as client:
        _as(client, "bob")
        Keyring(app_with_keys.data_dir, scrypt=FAST).rotate(["education-health"])
        seed(client, feeling=f"轮换之后{SCHOOL_WORD}")
        client.app.state.opened_words.idle.wait(30)
        page = client.get("/office/records?q=" + SCHOOL_WORD).text
        assert "共 0 条" in page and "另有 1 条加密记录" in page and "新建的钥匙" in page
        _as(client, "bob")
        page = client.get("/office/records?q=" + SCHOOL_WORD).text
        assert "共 1 条" in page and "新建的钥匙" not in page


def _neighbours(order: list[str], pairs: list[tuple[str, str]]) -> int:
    place = {i: n for n, i in enumerate(order)}
    return sum(abs(place[a] - place[b]) == 1 for a, b in pairs)


def test_quick_copies_tie_the_records_of_one_upload_no_more_than_any_two_of_their_minute(tmp_path):
    # Thirty browsers each send two reports queued offline, thirty others one, all in one
    # minute; each upload is opened as it arrives (a session holds the key). The copies
    # were one line per upload, in arrival order: the line told the batch, its length
    # the batch size. Now one line per record, and a minute's records written together
    # in no order of theirs, once a later minute has begun (or at the stop).
    private = envelope.generate_private_key()
    public = envelope.public_key_of(private)
    records: dict[str, dict] = {}

    def sealed(n: int, minute: str) -> dict:
        record = {"id": f"r{n:03d}", "station_id": "hebin-primary", "created_at": "2026-11-28T08:00:00Z",
                  "rating": "fair", "received_at": minute}
        records[record["id"]] = {**record, "sealed": envelope.seal(record, f"第{n}条", "", None, public)}
        return records[record["id"]]

    copies = QuickCopies(tmp_path)
    words = OpenedWords(lambda ids: {i: records[i] for i in ids}, copies)
    words.session_unlocked("token", Unlocked("amy", {public.kid: ("education-health", private)}))
    minute = "2026-11-28T08:01:00+00:00"
    pairs, number = [], iter(range(1000))
    for _ in range(30):
        two = [sealed(next(number), minute), sealed(next(number), minute)]
        pairs.append((two[0]["id"], two[1]["id"]))
        for upload in (two, [sealed(next(number), minute)]):
            words.records_added(upload)
            assert words.idle.wait(30)
    later = sealed(next(number), "2026-11-28T08:02:00+00:00")
    words.records_added([later])  # the minute is over: its copies are written
    assert words.idle.wait(30)
    key = envelope.quick_key(private)
    lines = [line for line in copies.path(public.kid).read_text().split("\n") if line]
    entries = [envelope.quick_open(key, public.kid, line) for line in lines]
    assert all(len(entry) == 1 for entry in entries), "a line holds more than one record"
    assert len({len(line) for line in lines}) == 1
    order = [entry[0][0] for entry in entries]
    assert sorted(order) == sorted(i for i in records if i != later["id"])  # the newest minute waits
    # For a random order of 90 about 0.7 of the 30 pairs are neighbours (9 or more: odds
    # below one in ten million); in arrival order all 30 are.
    assert _neighbours(order, pairs) < 9
    words.close()  # at the stop, the waiting minute is written too
    assert later["id"] in copies.read(public.kid, key)[0]


def test_quick_copies_grouped_by_upload_are_gone_once_the_server_has_started(app_with_keys):
    # Kept one line per upload (v2), a file told each batch's size to whoever copies the
    # folder, and every backup carried it, until some session read that key again.
    quick = app_with_keys.data_dir / "quick"
    quick.mkdir(mode=0o700)
    for name in ("0123456789abcdef.v2.log", "0123456789abcdef.log"):
        (quick / name).write_text("AAAA\n")
    with _client(app_with_keys) as client:
        assert client.get("/api/health").status_code == 200
        assert sorted(p.name for p in quick.iterdir()) == []


@pytest.mark.slow  # ninety uploads over HTTP, each sealed: tens of seconds on a loaded machine
def test_a_browsers_offline_batch_sits_together_neither_on_the_live_list_nor_in_the_quick_copies(app_with_keys):
    # The review's probe over HTTP: staff logged in (so each upload is opened as it
    # arrives), thirty browsers send two reports queued offline in one upload each,
    # thirty others one each. The live list showed each batch side by side in arrival
    # order, and the quick copies held one line per upload.
    with _client(app_with_keys) as client:
        _as(client, "amy")
        pairs, receipts = [], {}
        for n in range(30):
            two = [make_item(feeling=f"离线第{n}位{k}") for k in "ab"]
            for upload in (two, [make_item(feeling=f"单独第{n}位")]):
                for item, result in zip(upload, post_batch(client, upload, device_id=f"d{n}").json()["results"],
                                        strict=True):
                    receipts[result["receipt"]] = item["id"]
            pairs.append((two[0]["id"], two[1]["id"]))
        assert client.app.state.opened_words.idle.wait(30)
        listed = []
        for page in (1, 2, 3, 4):
            text = client.get("/office/records", params={"page": str(page)}).text
            listed += [receipts[r] for r in re.findall(r"[0-9A-Z]{5}-[0-9A-Z]{5}", text) if r in receipts]
        listed = list(dict.fromkeys(listed))
        assert len(listed) == 90
        # For a random order of 90 about 0.7 of the 30 pairs are neighbours (9 or more:
        # odds below one in ten million); in arrival order all 30 are.
        assert _neighbours(listed, pairs) < 9
    kid = Keyring(app_with_keys.data_dir).public_keys()["education-health"].kid
    _, private = Keyring(app_with_keys.data_dir, scrypt=FAST).unlock("amy", PASSWORD).private(kid)
    key = envelope.quick_key(private)
    lines = [line for line in QuickCopies(app_with_keys.data_dir).path(kid).read_text().split("\n") if line]
    entries = [envelope.quick_open(key, kid, line) for line in lines]
    assert all(len(entry) == 1 for entry in entries), "a line holds more than one record"
    copied = [entry[0][0] for entry in entries if entry[0][0] in set(receipts.values())]
    assert len(copied) == 90 and _neighbours(copied, pairs) < 9
