"""The letters log: a letter and its number in one fsynced line, marks kept by every line."""

from __future__ import annotations

import json

from sync_server.store.embedded.letterbook import LOG_NAME, LetterBook


def _label(n: int) -> str:
    return f"N{n}"


def test_a_letter_is_one_line_holding_its_number(tmp_path):
    book = LetterBook(tmp_path)
    book.issue("letter", 2026, {"matters": ["a"]}, _label)
    lines = (tmp_path / "office" / LOG_NAME).read_bytes().splitlines()
    assert len(lines) == 1
    line = json.loads(lines[0])
    assert line["put"]["n"] == 1 and line["taken"] == {"letter-2026": 1}


def test_a_torn_issue_leaves_no_letter_and_the_next_issue_is_whole(tmp_path):
    book = LetterBook(tmp_path)
    book.issue("letter", 2026, {"matters": ["a"]}, _label)
    with open(tmp_path / "office" / LOG_NAME, "ab") as handle:  # the next issue, torn by a kill
        handle.write(b'{"put": {"id": "letter-2026-2", "kind": "letter", "ye')
    reopened = LetterBook(tmp_path)
    assert [letter["n"] for letter in reopened.all()] == [1] and reopened.problems == []
    assert reopened.issue("letter", 2026, {"matters": ["b"]}, _label)["n"] == 2
    assert [letter["matters"] for letter in LetterBook(tmp_path).all()] == [["a"], ["b"]]


def test_a_damaged_letter_line_leaves_its_number_taken_by_the_lines_after_it(tmp_path):
    book = LetterBook(tmp_path)
    for name in "abc":
        book.issue("letter", 2026, {"matters": [name]}, _label)
    log = tmp_path / "office" / LOG_NAME
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(lines[0] + b"{not json}\n" + lines[2])
    reopened = LetterBook(tmp_path)
    assert [letter["n"] for letter in reopened.all()] == [1, 3]
    assert "letters.log is damaged" in reopened.problems[0]
    assert reopened.issue("letter", 2026, {"matters": ["d"]}, _label)["n"] == 4


def test_compaction_keeps_letters_in_issue_order_and_the_marks(tmp_path):
    book = LetterBook(tmp_path)
    first = book.issue("letter", 2026, {"matters": ["a"]}, _label)
    book.issue("supervision", 2026, {"matters": ["b"]}, _label)
    book.update(first["id"], {"voided": True})
    book.compact()
    reopened = LetterBook(tmp_path)
    assert [letter["id"] for letter in reopened.all()] == ["letter-2026-1", "supervision-2026-1"]
    assert reopened.get("letter-2026-1")["voided"] is True
    assert reopened.next_number("letter", 2026) == 2


def test_check_names_a_damaged_letters_log_and_repair_keeps_every_number_taken(tmp_path):
    from sync_server.store.embedded.check import check

    book = LetterBook(tmp_path)
    for name in "abc":
        book.issue("letter", 2026, {"matters": [name]}, _label)
    log = tmp_path / "office" / LOG_NAME
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(lines[0] + b"{not json}\n" + lines[2])
    found = check(tmp_path)
    assert any("letters.log is damaged" in p for p in found.problems) and "2 letters readable" in found.notes
    repaired = check(tmp_path, repair=True)
    assert any("letters.log" in r for r in repaired.repaired)
    again = LetterBook(tmp_path)
    assert again.problems == [] and again.next_number("letter", 2026) == 4
    assert list((tmp_path / "quarantine" / "office").glob("letters.log.*"))  # the evidence kept


def test_the_stores_problems_name_a_damaged_letters_log(tmp_path):
    from sync_server.store import open_store

    LetterBook(tmp_path).issue("letter", 2026, {"matters": ["a"]}, _label)
    with open(tmp_path / "office" / LOG_NAME, "ab") as handle:
        handle.write(b"{broken}\n")
    with open_store(tmp_path, writer=False) as store:
        assert any("letters.log is damaged" in problem for problem in store.problems())
