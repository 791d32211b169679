"""What the office says after an action succeeded. The redirect carries a code
(`?done=sign`), never the sentence: a URL with free text would let anyone put words in
the office's own voice on a link they send a colleague. An unknown code says nothing."""

from __future__ import annotations

__all__ = ["DONE", "done_message"]

DONE = {
    "accept": "已受理。",
    "decline": "已不予受理，群众凭回执码可看到答复。",
    "assign": "已交办，承办单位可在“我的待办”中签收。",
    "reassign": "已改派，原承办单位不再能查看此事项。",
    "sign": "已签收，请在办理期限内办结。",
    "send_back": "已退回办公室。",
    "ask_extension": "延期申请已提交，等待办公室审批。",
    "grant_extension": "已同意延期，办理期限已更新。",
    "refuse_extension": "已不同意延期，办理期限不变。",
    "progress": "办理进展已记录。",
    "submit": "已提交办结，等待办公室审核。",
    "approve": "已审核办结。",
    "redo": "已退回承办单位重办。",
    "urge": "已催办，承办单位可看到催办次数。",
    "supervise": "已列入督办。",
    "undo": "已撤回上一步操作。",
    "start": "已开始办理。",
    "close": "已办结。",
    "flag_weekly": "已提交周例会。",
    "unflag_weekly": "已撤出周例会。",
    "follow_up": "回访结果已记录。",
    "reply": "公开答复已保存，群众凭回执码可见。",
    "merge": "已合并到另一条记录。",
    # 群众说了算. The citizen's own steps (verdict, answer) are never taken on an office page.
    "verdict": "群众评价已记录。",
    "answer": "群众补充已记录。",
    "ask": "已请群众补充，群众凭回执码查询时可看到问题。",
    "seen_answer": "已阅群众补充。",
    "reopen": "已重新办理，群众查询时显示“重新办理中”。",
    "maintain": "已维持原处理，群众查询时可看到理由。",
    "publish": "已公开，5 分钟内在服务点页面和成效页显示。",
    "unpublish": "已撤回公开，5 分钟内从所有页面消失。",
}


def done_message(code: str) -> str:
    """The sentence for a `?done=` code, or "" for anything else (a typed or forged code)."""
    return DONE.get(code, "") if isinstance(code, str) else ""
