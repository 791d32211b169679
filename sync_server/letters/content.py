"""What a 工作建议函 says: its matters as table rows, its default title and body, and the
checks on what staff typed. Pure: the pages hand in rows and the registry's rules."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sync_server.letters.numbering import chinese_date
from sync_server.words import FORBIDDEN, line_breaks_as_lf, visible

__all__ = ["MATTER_LIMIT", "MESSAGES", "OPEN_STATUSES", "LetterError", "answer_fields", "default_body", "default_title", "letter_fields", "void_fields",
           "matter_row"]

MATTER_LIMIT = 200
TITLE_LIMIT = 100
BODY_LIMIT = 5000
ANSWER_LIMIT = 5000
# Matters a letter may list: those still being handled (never one closed, declined or merged).
OPEN_STATUSES = ("received", "accepted", "assigned", "in_progress", "returned", "review")

MESSAGES = {
    "no_matters": "请至少选择一条事项。",
    "too_many_matters": f"一份工作建议函最多列 {MATTER_LIMIT} 条事项，请分几份发出。",
    "closed_matter": "只能把尚未办结的事项列入工作建议函。",
    "unknown_matter": "有的回执码没有找到对应的记录，或您无权查看它。",
    "choose_department": "请选择主送的牵头部门。",
    "not_held": "工作建议函只能列入当前交办给主送部门（牵头办理）的事项；未交办、交办给其他部门或已改派的事项请另行处理。",
    "none_held": "这个领域没有交办给主送部门、尚未办结的事项。",
    "missing_title": "请填写标题。",
    "title_one_line": "标题请写成一行，不要换行。",
    "too_long_title": f"标题最多 {TITLE_LIMIT} 个字。",
    "missing_body": "请填写正文。",
    "too_long_body": f"正文最多 {BODY_LIMIT} 个字。",
    "missing_answer": "请填写部门的答复内容。",
    "too_long_answer": f"答复内容最多 {ANSWER_LIMIT} 个字。",
    "bad_answer_date": "答复日期应为发函之后、今天或之前的日期，格式为 年-月-日。",
    "voided": "这份函已作废，不能再登记答复。",
    "missing_reason": "请填写作废的理由。",
    "bad_characters": "请删去文字中的控制字符、方向控制符等看不见的字符后再提交。",
}


class LetterError(ValueError):
    """What staff typed cannot make a letter; `code` is a key of MESSAGES."""

    def __init__(self, code: str) -> None:
        super().__init__(MESSAGES[code])
        self.code = code


def matter_row(row, summary: str) -> dict[str, Any]:
    """One line of the letter's table, as the matter stood when the letter was made (a
    letter is a document sent: its table does not change with the matter later)."""
    return {
        "id": row.id, "receipt": row.record["receipt"], "sector": row.sector_name, "post": row.station_name,
        # Words stored before today's rules may hold characters a Word file cannot carry:
        # shown as escapes, as everywhere in the office.
        "summary": visible(summary), "deadline": row.triage.get("deadline") or "", "status": row.status_label,
    }


def default_title(department_name: str) -> str:
    return f"关于商请{department_name}办理群众反映问题的工作建议函"


def default_body(count: int, due: date) -> str:
    return (f"在扫黑除恶专项斗争中，我办通过“民情哨”收集到群众反映的问题线索和意见建议。经梳理，以下 {count} 项属于贵单位"
            f"牵头办理的事项（见附表）。现函告贵单位，请逐项核查处置，依法依规办理，并于{chinese_date(due)}前将办理情况书面"
            f"反馈我办。\n\n特此函告。")


def _one_line(text: str, limit: int, name: str) -> str:
    text = (text or "").strip()
    if not text:
        raise LetterError(f"missing_{name}")
    if FORBIDDEN.search(text.replace("\r", "").replace("\n", "")):
        raise LetterError("bad_characters")
    if any(ch in text for ch in "\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029"):
        raise LetterError(f"{name}_one_line")
    if len(text) > limit:
        raise LetterError(f"too_long_{name}")
    return text


def _text(text: str, limit: int, name: str) -> str:
    # Line breaks stored as LF, whatever the browser sent.
    text = line_breaks_as_lf(text or "").strip()
    if not text:
        raise LetterError(f"missing_{name}")
    # Characters nobody types, which break the Word file, exports and terminals.
    if FORBIDDEN.search(text):
        raise LetterError("bad_characters")
    if len(text) > limit:
        raise LetterError(f"too_long_{name}")
    return text


def letter_fields(*, department, matters: list[dict[str, Any]], title: str, body: str, sent_on: date, due: date,
                  issuer: str, by: str, by_display: str, now: datetime) -> dict[str, Any]:
    """The stored letter, before the store gives it its number."""
    if department is None:
        raise LetterError("choose_department")
    if not matters:
        raise LetterError("no_matters")
    if len(matters) > MATTER_LIMIT:
        raise LetterError("too_many_matters")
    return {
        "department": department.id, "department_name": department.name, "issuer": issuer,
        "title": _one_line(title, TITLE_LIMIT, "title"), "body": _text(body, BODY_LIMIT, "body"),
        "matters": [m["id"] for m in matters], "rows": matters,
        "sent_on": sent_on.isoformat(), "answer_due": due.isoformat(), "answer": None, "voided": False,
        "by": by, "by_display": by_display, "at": now.isoformat(timespec="seconds"), "history": [],
    }


def answer_fields(letter: dict[str, Any], text: str, on: str, today: date, by: str, by_display: str,
                  now: datetime) -> dict[str, Any]:
    """The changes that record a department's answer (a later answer replaces it; each is in the history)."""
    if letter.get("voided"):
        raise LetterError("voided")
    text = _text(text, ANSWER_LIMIT, "answer")
    try:
        day = date.fromisoformat(on.strip()) if len(on.strip()) == 10 else None
    except ValueError:
        day = None
    if day is None or not date.fromisoformat(letter["sent_on"]) <= day <= today:
        raise LetterError("bad_answer_date")
    answer = {"text": text, "on": day.isoformat(), "by": by, "by_display": by_display, "at": now.isoformat(timespec="seconds")}
    step = {"at": answer["at"], "by": by, "by_display": by_display, "action": "answer", "note": text}
    return {"answer": answer, "history": [*letter.get("history", []), step]}


def void_fields(letter: dict[str, Any], reason: str, by: str, by_display: str, now: datetime) -> dict[str, Any]:
    """A letter withdrawn keeps its number (taken for good) and says why."""
    reason = _text(reason, 500, "reason")
    step = {"at": now.isoformat(timespec="seconds"), "by": by, "by_display": by_display, "action": "void", "note": reason}
    return {"voided": True, "history": [*letter.get("history", []), step]}
