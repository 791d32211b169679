"""文号 from the registry's form, and dates as an official letter writes them."""

from __future__ import annotations

from datetime import date

from sync_server.letters.numbering import chinese_date, labeller


def test_a_number_fills_the_registrys_form_with_year_and_number():
    assert labeller("金扫黑办函〔{year}〕{n}号", 2026)(3) == "金扫黑办函〔2026〕3号"


def test_a_form_is_words_not_code_so_other_braces_print_as_they_stand():
    assert labeller("函{year}-{n}-{0}{n.__class__}", 2026)(7) == "函2026-7-{0}{n.__class__}"


def test_the_date_has_the_year_in_full_and_no_leading_zeros():
    assert chinese_date(date(2026, 1, 5)) == "2026年1月5日"
    assert chinese_date(date(2026, 12, 18)) == "2026年12月18日"
