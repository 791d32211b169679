"""The office's view of sealed records: what a page shows of a sealed record for one
session, and the notice that says whether sealing is on.

Every read of a sealed record's words or phone goes through `unlock.open_record` with
the session's keys (unlocked at log-in, forgotten at logout and expiry). The opened
words live only in the page being rendered; nothing opened is written anywhere.

Opened words are untrusted: the page checks them before it seals, but any client can
seal anything the envelope's size allows. `checked` holds them to the rules of a plain
submission; words that break one carry a note (`words_problem`) and are shown with their
forbidden characters as `\\uXXXX` escapes, in the office and in files alike.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from sync_server.intake.submission import opened_words_problem
from sync_server.office.department_copies import NOT_YET, missing_notice, open_for_department
from sync_server.sealing.envelope import SealError
from sync_server.sealing.unlock import open_record
from sync_server.words import line_breaks_as_lf, visible

__all__ = ["LOCKED", "checked", "opened_rows", "published_keys_notice", "sealed_search_note", "sealing_notice"]

# Shown where the words would be when this session cannot open them.
LOCKED = "（已加密：请重新登录后查看）"
NOT_YOURS = "（已加密：您的账号无权查看）"


def _sector_lookup(registry):
    sectors = {s.id: s.sector for s in registry.stations}
    return sectors.get


_LABELS = {"feeling": "感受", "suggestion": "建议", "phone": "联系电话"}


def _reason(error) -> str:
    label = _LABELS.get(error.field, error.field)
    if error.code == "invalid_text":
        return f"{label}含有控制字符或无法保存的字符（已按 \\uXXXX 形式显示）"
    if error.code == "empty":
        return "既没有满意度，也没有感受或建议"
    if error.field == "phone":
        return "联系电话格式不正确"
    return error.message.rstrip("。")


def checked(record: dict[str, Any], feeling: str, suggestion: str, phone: str | None = None,
            well_formed: bool = True) -> dict[str, Any]:
    """The record with these opened words, held to the rules of a plain submission: when
    they break one, `words_problem` says which (in Chinese) and the forbidden characters
    are shown as escapes; otherwise the words exactly, with each line break as LF (a lone
    CR piped to a terminal would overwrite the line)."""
    shown = {**record, "feeling": line_breaks_as_lf(feeling), "suggestion": line_breaks_as_lf(suggestion),
             "phone": phone or None}
    problem = opened_words_problem(record, feeling, suggestion, phone, well_formed)
    if problem is None:
        return shown
    note = f"此记录的原话不符合提交规则：{_reason(problem)}。它可能不是经本系统的表单提交的，请核实后再处理。"
    return {**shown, "feeling": visible(feeling), "suggestion": visible(suggestion),
            "phone": visible(phone) if phone else None, "words_problem": note}


def opened(state, account, unlocked, record: dict[str, Any], with_phone: bool = False) -> dict[str, Any]:
    """The record as this session may see it: a sealed record's words (and, when asked,
    phone) opened in memory, or a sentence saying why not; checked either way, since a
    plain record stored before a rule (a data folder from an older version) may break it."""
    if not isinstance(record.get("sealed"), dict):
        return checked(record, record.get("feeling") or "", record.get("suggestion") or "",
                       record.get("phone") if with_phone else None)
    try:
        if account.role == "department":
            # A department holds no sector key: it reads its department's copy of a
            # matter dispatched to it (`department_copies`), and nothing else.
            store = state.store
            words = open_for_department(account, unlocked, record, store.triage.entry(record["id"]),
                                        store.department_copies.copies(record["id"]))
        else:
            words = open_record(account, unlocked, record, _sector_lookup(state.stations.registry),
                                with_phone=with_phone)
    except SealError as error:
        shown = LOCKED if error.code == "locked" else NOT_YOURS if error.code == "not_your_sector" else \
            NOT_YET if error.code == "not_yet" else error.message
        shown = {**record, "feeling": shown, "suggestion": "", "phone": None, "sealed_locked": True}
    else:
        shown = checked(record, words.feeling, words.suggestion, words.phone, words.well_formed)
    if account.role == "staff":
        notice = _copies_waiting(state, unlocked, record["id"])
        if notice:
            shown["copy_notice"] = notice
    return shown


def _copies_waiting(state, unlocked, record_id: str) -> str | None:
    """For staff: departments on the matter that cannot read its sealed words yet. This
    session holds the words open: the copies are made now where they can be."""
    copier = state.department_copier
    if not copier.missing(record_id):
        return None
    copier.follow([record_id], unlocked)
    registry = state.stations.registry
    return missing_notice(copier.missing(record_id), lambda d: registry.department(d).name if registry.department(d)
                          else d)


def opened_rows(state, account, unlocked, rows, with_phone: bool = False) -> list:
    """Rows (office read-side rows, which carry `.record`) with sealed words opened and
    every row's words checked."""
    return [dataclasses.replace(row, record=opened(state, account, unlocked, row.record, with_phone)) for row in rows]


def sealing_notice(state) -> str | None:
    """A sentence for the top of every office page when some words are stored unsealed."""
    sealer = state.intake.sealer
    registry = state.stations.registry
    plain = sealer.unsealed_sectors([s.id for s in registry.sectors])
    if not plain:
        return None
    if len(plain) == len(registry.sectors):
        return "未启用加密：群众的原话和电话以明文保存在服务器上。请系统管理员运行 minqing keys init。"
    names = "、".join(registry.sector(s).name for s in plain)
    return f"以下领域尚未启用加密，其记录以明文保存：{names}。请系统管理员运行 minqing keys rotate。"


def published_keys_notice(state) -> str | None:
    """A sentence for the top of every office page while the site's `keys.json` (what the
    forms seal to) is not the keyring's current keys: after `keys init` or `keys rotate`
    without a rebuild, or a site built without the public-key file. Read at each page: a
    few kilobytes, and a rebuild must end the banner at once."""
    current = state.intake.sealer.current_kids()
    site = Path(state.settings.site_dir)
    if not current or not site.is_dir():  # no keys, or the site is served from elsewhere
        return None
    try:
        keys = json.loads((site / "keys.json").read_bytes())["keys"]
        published = {entry["sector"]: kid for kid, entry in keys.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        published = {}
    if published == current:
        return None
    return ("网站发布的加密公钥（keys.json）与当前钥匙不一致（例如生成或轮换钥匙后尚未重新生成网站）："
            "表单会用旧钥匙加密，或把群众的原话以明文暂存在平板上。请系统管理员运行 minqing build 重新生成网站并发布。")


def sealed_search_note(progress) -> str | None:
    """What the list says while the search over sealed words is not complete."""
    notes = []
    if progress.total and not progress.complete:
        notes.append(f"正在解密加密记录以供搜索：已完成 {progress.opened:,} / {progress.total:,} 条，"
                     "搜索结果暂不完整，请稍后刷新。")
    if progress.newer:
        notes.append(f"另有 {progress.newer:,} 条加密记录用的是您登录之后新建的钥匙，"
                     "搜索不到也打不开：请退出后重新登录。")
    return "".join(notes) or None
