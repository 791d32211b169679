"""The office's numbered letters: 工作建议函 to lead departments and 督办单 for matters under
formal supervision. Pure rules here (numbers, tracking, the letter's words and matter
table, the DOCX); the letters are kept by the store's `Letters`, the pages are
`office/letter_pages.py` and `office/supervision_pages.py`."""
