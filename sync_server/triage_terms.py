"""The words and shapes of the office's lifecycle: statuses, tracks, outcomes, the
action table, the messages an action's refusal shows, and the checks of a form's
fields. A leaf: `triage` (the lifecycle) and `dispatch` (the dispatch rules) both read
it, and neither imports the other back through it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

__all__ = ["ACTIONS", "CLOSED", "CONFIRM", "DECLINE_REPLY", "DEPARTMENT_ACTIONS", "EVENTS", "FIELDS", "FIRST_YEAR",
           "LAST_YEAR", "MESSAGES", "OPEN", "OUTCOMES", "SATISFACTION", "CALL_OUTCOMES", "CITIZEN_ACTIONS", "VERDICT_DAYS", "STATUSES", "SUMMARY_LIMIT", "TRACKS",
           "TriageError", "check_deadline", "check_summary", "choice", "need"]

STATUSES = {
    "received": "已收到",
    "accepted": "已受理",
    "declined": "不予受理",
    "assigned": "已交办",
    "in_progress": "办理中",
    "review": "待审核",
    "returned": "已退回",
    "closed": "已办结",
    "followed_up": "已回访",
}
TRACKS = {"immediate": "立行立改", "long_term": "长效常治"}
OUTCOMES = {"resolved": "已解决", "partly": "部分解决", "not_ours": "不属于职责范围", "merged": "已合并"}
SATISFACTION = {"satisfied": "满意", "fair": "基本满意", "dissatisfied": "不满意"}
# A 回访 call's outcome: a verdict by phone, or nobody answered (counted as a call only).
CALL_OUTCOMES = {**SATISFACTION, "no_answer": "未接通"}
# A citizen may change the round's verdict this many days after giving the first one.
VERDICT_DAYS = 15
OPEN = ("received", "accepted", "assigned", "in_progress", "review", "returned")
_HANDLING = ("assigned", "in_progress")

# action: (statuses it may start from, label). Who may take each: `dispatch.rules.may_take`.
ACTIONS = {
    "accept": (("received",), "受理"),
    "decline": (("received",), "不予受理"),
    "assign": (("accepted", "returned"), "交办"),
    "reassign": ((*_HANDLING, "review"), "改派"),
    "sign": (("assigned",), "签收"),
    "send_back": (_HANDLING, "退回"),
    "ask_extension": (_HANDLING, "申请延期"),
    "grant_extension": ((*_HANDLING, "review"), "同意延期"),
    "refuse_extension": ((*_HANDLING, "review"), "不同意延期"),
    "progress": ((*_HANDLING, "review"), "办理进展"),
    "submit": (("in_progress",), "提交办结"),
    "approve": (("review",), "审核办结"),
    "redo": (("review",), "重办"),
    "urge": (_HANDLING, "催办"),
    "supervise": ((*_HANDLING, "review"), "督办"),
    "start": (("assigned",), "开始办理"),
    "flag_weekly": (("assigned", "in_progress"), "提交周例会"),
    "unflag_weekly": (("assigned", "in_progress"), "撤出周例会"),
    "close": (("assigned", "in_progress"), "办结"),
    "follow_up": (("closed", "followed_up", "declined"), "回访"),
    "reply": (tuple(STATUSES), "公开答复"),
    "merge": (OPEN, "合并到另一条"),
    "undo": (tuple(STATUSES), "撤回"),
    # 群众说了算 (see sync_server.verdicts). A citizen's steps start from any status so
    # that an open matter is refused with its own sentence (还在办理中), not a generic one.
    "verdict": (tuple(STATUSES), "群众评价"),
    "answer": (tuple(STATUSES), "群众补充"),
    "ask": (tuple(STATUSES), "请群众补充"),
    "seen_answer": (tuple(STATUSES), "已阅补充"),
    "reopen": (("closed", "followed_up", "declined"), "重新办理"),
    "maintain": (("closed", "followed_up", "declined"), "维持原处理"),
    "publish": (("closed", "followed_up"), "公开"),
    "unpublish": (tuple(STATUSES), "撤回公开"),
}
# What the citizen (by receipt, actor `citizen`) may take: nothing else.
CITIZEN_ACTIONS = frozenset({"verdict", "answer"})
# What a department account may take at all (`dispatch.rules.may_take` says on which
# matters: its own as lead unit; `progress` as 协办 too; `undo` of its own last step).
# Never `reply`: the office owns the public voice, and a department's words reach the
# citizen only through 提交办结 and the office's 审核. Never `unflag_weekly`: it may put
# its matter on the 周例会, not take off one the office put there.
DEPARTMENT_ACTIONS = frozenset({"sign", "send_back", "ask_extension", "progress", "submit", "flag_weekly", "undo",
                                "seen_answer"})
# History steps that are no action of their own, but a merge's mark on another record:
# the target gains a duplicate; a duplicate moves on with the record it was merged into.
EVENTS = {"merged_from": "合并了重复反映", "merge_moved": "随所合并的记录转并"}


CONFIRM = frozenset({"close", "decline", "merge"})  # asked twice: they end the matter for the citizen
CLOSED = ("closed", "followed_up", "declined")
DECLINE_REPLY = "感谢您的反映。经研究，此事项不属于本次专项整治的受理范围，我们已记录您的意见，并将转交相关部门参考。"

# Deadlines and report dates an office can mean: the reports take no date outside these
# years, and a deadline of year 1 made the meeting pack count 700,000 days overdue.
FIRST_YEAR, LAST_YEAR = 2000, 2100
SUMMARY_LIMIT = 200  # the meeting pack's one line, as the page's field allows

# Field name: its label, for the sentence that asks for it.
FIELDS = {
    "reason": "不予受理的理由", "public_reply": "公开答复", "deadline": "办理期限", "lead": "牵头部门",
    "track": "办理方式（立行立改或长效常治）", "outcome": "办结结果", "satisfaction": "回访满意度",
    "into": "要合并到的记录", "summary": "一句话概要", "department": "承办部门",
    "reassign_reason": "改派的理由", "return_reason": "退回的理由", "extension_reason": "申请延期的理由",
    "refusal_reason": "不同意延期的理由", "progress": "办理进展", "result": "办理结果", "redo_reason": "重办的理由",
    "supervision": "督办单编号",
    "choice": "评价", "comment": "评价留言", "client_id": "提交编号", "question": "问题", "text": "补充内容",
    "reopen_reason": "重新办理的理由", "maintain_reason": "维持原处理的理由（群众会看到）",
    "public_title": "公开标题", "public_done": "办理情况",
}
# Fields shorter than the usual 2000: a question the citizen reads on a phone, and the
# public 你说我办 item's title and text.
LIMITS = {"question": 500, "public_title": 60, "public_done": 500}

# Every message the office shows after an action comes from this table by code: a URL
# never carries the sentence itself, so nobody can put words in the office's alert box.
MESSAGES = {
    "no_action": "没有这个操作。",
    "not_allowed": "这条记录当前的状态下不能执行这个操作。",
    "not_your_action": "您的账号不能执行这个操作。",
    "bad_deadline": f"办理期限应为 {FIRST_YEAR} 至 {LAST_YEAR} 年间的日期，格式为 年-月-日。",
    "summary_one_line": "一句话概要请写成一行，不要换行。",
    "merge_self": "请填写另一条记录的回执码。",
    "merge_unknown": "没有找到这个回执码的记录，或您无权查看它。",
    "merge_merged": "不能合并到一条已被合并的记录。",
    "merge_closed": "不能合并到一条已办结、已回访或不予受理的记录。",
    "merged_no_follow_up": "已合并的记录不需要回访，请在合并到的记录上回访。",
    "unknown_department": "没有这个部门，请从列表中选择承办部门。",
    "same_department": "改派请选择另一个部门。",
    "co_is_lead": "协办部门不能是承办部门本身。",
    "deadline_past": "办理期限不能早于今天，请重新选择日期（留空则按办理方式的默认期限）。",
    "extension_not_later": "延期后的期限应晚于现在的办理期限。",
    "no_extension": "这条记录没有待处理的延期申请。",
    "no_proposal": "这条记录没有待审核的办结申请。",
    "not_your_matter": "这条记录没有交办给您的部门，或您的部门只是协办。",
    "nothing_to_undo": "没有可以撤回的操作：只能撤回您自己在这条记录上的最后一步。",
    "undo_too_late": "已超过可以撤回的时间。",
    "undo_not_possible": "这一步不能撤回（合并、撤回本身和其他记录上的操作不能撤回）。",
    **{f"missing_{name}": f"请填写{label}。" for name, label in FIELDS.items()},
    **{f"too_long_{name}": f"{label}最多 2000 个字。" for name, label in FIELDS.items()},
    **{f"choose_{name}": f"请选择{label}。" for name, label in FIELDS.items()},
    "too_long_summary": f"一句话概要最多 {SUMMARY_LIMIT} 个字。",
    **{f"too_long_{name}": f"{FIELDS[name]}最多 {limit} 个字。" for name, limit in LIMITS.items()},
    # 群众说了算: the citizen reads these (the look-up's pages), the office the rest.
    "still_open": "这件事还在办理中，办结后才能评价。",
    "old_round": "这件事已重新办理，请对新的办理结果评价。",
    "too_late": f"评价只能在首次评价后 {VERDICT_DAYS} 天内修改，现在已不能修改。",
    "bad_choice": "请选择满意、基本满意或不满意。",
    "no_reply_yet": "这件事还没有公开答复，答复后才能评价。",
    "duplicate": "这条已经收到，不用再发送。",
    "merged_citizen": "这条意见已与其他意见合并办理，请以合并后的办理结果为准。",
    "no_question": "没有找到这个问题，请重新查询后再回答。",
    "answered": "这个问题已经回答过了。",
    "not_dissatisfied": "只有群众不满意的记录才需要维持原处理或重新办理。",
    "no_answer_to_see": "这条记录没有待阅的群众补充。",
    "not_published": "这条记录没有公开。",
    "merged_no_publish": "已合并的记录不能公开，请公开合并到的记录。",
    "no_phone_to_call": "这条记录没有群众同意留下的电话（或已按保存期限删除），不能电话回访。",
    "not_yet_round": "这件事没有这一轮办理，请刷新后再评价。",
    "too_many_changes": "这一轮的评价已修改多次，不能再修改。如有新情况，请到民情哨重新反映。",
    "merged_no_ask": "已合并的记录不能再请群众补充，请在合并到的记录上操作。",
}


class TriageError(ValueError):
    """An action that the record's status or the form's fields do not allow.

    `code` is a key of MESSAGES; the Chinese sentence is its message."""

    def __init__(self, code: str) -> None:
        super().__init__(MESSAGES[code])
        self.code = code


def need(fields: Mapping[str, Any], name: str) -> str:
    value = fields.get(name) or ""
    value = value.strip() if isinstance(value, str) else ""
    if not value:
        raise TriageError(f"missing_{name}")
    if len(value) > LIMITS.get(name, 2000):
        raise TriageError(f"too_long_{name}")
    return value


def choice(fields: Mapping[str, Any], name: str, choices: dict[str, str]) -> str:
    value = fields.get(name) or ""
    if not isinstance(value, str) or value not in choices:
        raise TriageError(f"choose_{name}")
    return value


def check_deadline(text: str) -> str:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text, re.ASCII):
        raise TriageError("bad_deadline")
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise TriageError("bad_deadline") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise TriageError("bad_deadline")
    return day.isoformat()


def check_summary(summary: str) -> str:
    # The page's field is one line of 200; a hand-made form is held to the same.
    if any(ch in summary for ch in "\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029"):
        raise TriageError("summary_one_line")
    if len(summary) > SUMMARY_LIMIT:
        raise TriageError("too_long_summary")
    return summary
