"""The words' rules in one place: what `visible` shows of words that were stored or sealed
before the rules (or by a client that ignored them)."""

from __future__ import annotations

from sync_server.words import visible


def test_visible_words_carry_no_carriage_return():
    # Old plain records and sealed words can hold a lone CR: shown as the line break it was.
    assert visible("一\r二\r\n三") == "一\n二\n三"


def test_visible_words_escape_line_separators_and_byte_order_marks():
    assert visible("一\u2028二\u2029三\ufeff") == "一\\u2028二\\u2029三\\ufeff"


def test_visible_words_keep_direction_marks_and_tag_characters():
    # Uyghur needs the marks; a flag emoji is built of tag characters.
    flag = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
    assert visible("\u200e100\u061c-\u200f900" + flag) == "\u200e100\u061c-\u200f900" + flag
