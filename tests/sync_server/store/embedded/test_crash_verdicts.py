"""The crash-consistency harness for 群众说了算's writes (see `test_crash_consistency` for
the harness itself): the server killed with SIGKILL at random moments, 30 times for each
kind of write; after every kill each step is whole or absent, never doubled, and no
question id is ever given twice.

- verdicts: citizens give, then change, their verdict by receipt, each step with its
  own browser id, resent with the same id when the kill took the answer (as the page's
  outbox does). Every step the server acknowledged is stored, none twice, in the order
  sent, and the entry's verdict and 群众不满意 flag are its last verdict step's.
- answers: staff ask a question on the office page, the citizen answers it by receipt;
  both through the server. Question ids are q1, q2, ... with no gap and none reused,
  each answer is on its question with one step, and every acknowledged step is there.
- publication: staff 公开 and 撤回公开 in turn. The matter is published exactly when its
  last such step is 公开, with that step's title.
"""

from __future__ import annotations

import random
import re
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import httpx2 as httpx
import pytest

from minqing.server_process import ServerProcess
from sync_server.store.embedded.accounts import Accounts
from sync_server.store.embedded.inbox import Inbox
from sync_server.store.embedded.triagebook import TriageBook
from sync_server.triage import damage, new_entry
from tests.sync_server.store.embedded.test_crash_consistency import KILLS, PASSWORD, Figures, _fill, _login

VERDICTS, ANSWERS, PUBLICATION = "verdicts by receipt", "questions and answers", "publish and unpublish"
CHOICES = ("dissatisfied", "fair", "satisfied")  # each matter's verdicts, in the order sent
ROUNDS_OF_TALK = 3  # questions asked (and answered) on each matter


def _closed(data: Path, ids: list[str]) -> None:
    """The matters closed with a public reply, as the office leaves them."""
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    TriageBook(data).put_many({sid: {**new_entry(now), "status": "closed", "outcome": "resolved", "closed_at": now,
                                     "public_reply": "已处理。"} for sid in ids})


def _receipts(data: Path) -> dict[str, str]:
    with Inbox(data, writer=False) as inbox:
        return {r["id"]: r["receipt"] for r in inbox.records()}


def _common(sid: str, entry: dict) -> list[str]:
    why = damage(entry)
    problems = [f"{sid}: {why}"] if why else []
    history = entry.get("history") or []
    if history and history[-1]["to"] != entry["status"]:
        problems.append(f"{sid}: its status is not its last step's")
    ids = [h["client_id"] for h in history if h.get("client_id")]
    if len(ids) != len(set(ids)):
        problems.append(f"{sid}: a citizen's step stored twice")
    return problems


def verdict_problems(entries: dict[str, dict], sent: dict[str, list[str]]) -> list[str]:
    problems = []
    for sid, entry in entries.items():
        problems += _common(sid, entry)
        steps = [h for h in entry.get("history") or [] if h["action"] == "verdict"]
        if [h["client_id"] for h in steps] != sent[sid][:len(steps)]:
            problems.append(f"{sid}: verdict steps out of the order sent")
        last = steps[-1]["choice"] if steps else None
        if (entry.get("verdict") or {}).get("choice") != last or entry.get("dissatisfied") != (last == "dissatisfied"):
            problems.append(f"{sid}: its verdict is not its last verdict step's")
    return problems


def answer_problems(entries: dict[str, dict]) -> list[str]:
    problems = []
    for sid, entry in entries.items():
        problems += _common(sid, entry)
        questions = entry.get("questions") or []
        history = entry.get("history") or []
        if [q["id"] for q in questions] != [f"q{n}" for n in range(1, len(questions) + 1)]:
            problems.append(f"{sid}: question ids {[q['id'] for q in questions]} skip or repeat")
        if [h["question"] for h in history if h["action"] == "ask"] != [q["id"] for q in questions]:
            problems.append(f"{sid}: questions and their steps disagree")
        answered = [h["question"] for h in history if h["action"] == "answer"]
        if answered != [q["id"] for q in questions if q.get("answer") is not None]:
            problems.append(f"{sid}: answers and their steps disagree")
        if entry.get("citizen_added") != (bool(history) and history[-1]["action"] == "answer"):
            problems.append(f"{sid}: 群众已补充 does not follow the last step")
    return problems


def publication_problems(entries: dict[str, dict]) -> list[str]:
    problems = []
    for sid, entry in entries.items():
        problems += _common(sid, entry)
        steps = [h for h in entry.get("history") or [] if h["action"] in ("publish", "unpublish")]
        publication = entry.get("publication")
        if steps and steps[-1]["action"] == "publish":
            if not publication or publication["title"] != steps[-1]["note"] or publication["station_id"] == "":
                problems.append(f"{sid}: published by its last step, but not whole")
        elif publication is not None:
            problems.append(f"{sid}: published without a step that says so")
    return problems


def _office_act(client: httpx.Client, sid: str, action: str, **fields) -> bool:
    page = client.get("/office/records")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    reply = client.post(f"/office/records/{sid}/action", data={"csrf": token, "action": action, "confirm": "yes",
                                                                 **fields}, follow_redirects=False)
    return reply.status_code == 303 and "error" not in reply.headers.get("location", "")


def _rounds(data: Path, site: Path, registry: Path, scenario: str, figures: Figures, chaos: random.Random,
            work: Callable[[httpx.Client, threading.Event], None], check: Callable[[dict], list[str]],
            login: bool) -> None:
    """KILLS rounds: start the server, let `work` run, kill it at a random moment, check."""
    server = ServerProcess(data, site, registry)
    for _ in range(KILLS):
        server.start(timeout=90)
        stop, ready = threading.Event(), threading.Event()

        def run(port=server.port, stop=stop, ready=ready) -> None:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
                try:
                    if login:
                        _login(client)
                    ready.set()
                    work(client, stop)
                except (httpx.HTTPError, AttributeError, ValueError):
                    pass  # the server was killed under us
                finally:
                    ready.set()

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        ready.wait(timeout=10)
        time.sleep(chaos.uniform(0.0, 0.5))  # the kill lands among the steps
        server.kill()
        stop.set()
        worker.join(timeout=10)
        problems = check(TriageBook(data).all())
        figures.note(scenario, problems)
        figures.add(scenario, kills=1, violations=len(problems))


def scenario_verdicts(root: Path, registry: Path, site: Path, figures: Figures, chaos: random.Random) -> None:
    data = root / "verdicts"
    ids = [i["id"] for i in _fill(data, registry, 60)]
    _closed(data, ids)
    receipts = _receipts(data)
    sent = {sid: [str(uuid.uuid4()) for _ in CHOICES] for sid in ids}  # each step's own id, fixed once
    acked: dict[str, int] = dict.fromkeys(ids, 0)

    def work(client: httpx.Client, stop: threading.Event) -> None:
        for sid in ids:
            while acked[sid] < len(CHOICES) and not stop.is_set():
                n = acked[sid]
                reply = client.post("/api/receipts/verdict", json={
                    "code": receipts[sid], "id": sent[sid][n], "round": 1, "choice": CHOICES[n]})
                if reply.status_code == 429:
                    return
                if reply.status_code == 200 and reply.json()["status"] in ("accepted", "duplicate"):
                    acked[sid] += 1

    def check(entries: dict) -> list[str]:
        problems = verdict_problems(entries, sent)
        stored = {sid: {h.get("client_id") for h in entries[sid]["history"]} for sid in ids}
        return problems + [f"{sid}: an acknowledged verdict is missing" for sid in ids
                           if not set(sent[sid][:acked[sid]]) <= stored[sid]]

    _rounds(data, site, registry, VERDICTS, figures, chaos, work, check, login=False)
    figures.add(VERDICTS, records=sum(n == len(CHOICES) for n in acked.values()))


def scenario_answers(root: Path, registry: Path, site: Path, figures: Figures, chaos: random.Random) -> None:
    data = root / "answers"
    ids = [i["id"] for i in _fill(data, registry, 40)]
    _closed(data, ids)
    Accounts(data).add("amy", PASSWORD, "staff", "王干事")
    receipts = _receipts(data)
    answer_ids = {sid: [str(uuid.uuid4()) for _ in range(ROUNDS_OF_TALK)] for sid in ids}
    acked: dict[str, int] = dict.fromkeys(ids, 0)  # steps acknowledged: ask, answer, ask, answer...

    def work(client: httpx.Client, stop: threading.Event) -> None:
        for sid in ids:
            while acked[sid] < 2 * ROUNDS_OF_TALK and not stop.is_set():
                history = (TriageBook(data).entry(sid) or {}).get("history") or []
                if len(history) > acked[sid]:  # stored, but the kill took the answer
                    acked[sid] = len(history)
                    continue
                n, asking = divmod(acked[sid], 2)
                if asking == 0:
                    done = _office_act(client, sid, "ask", question=f"第{n + 1}个问题：具体是哪天？")
                else:
                    reply = client.post("/api/receipts/answer", json={
                        "code": receipts[sid], "id": answer_ids[sid][n], "question": f"q{n + 1}", "text": f"回答{n + 1}"})
                    done = reply.status_code == 200
                if done:
                    acked[sid] += 1

    def check(entries: dict) -> list[str]:
        return answer_problems(entries) + [f"{sid}: {n} steps acknowledged, fewer stored" for sid, n in acked.items()
                                           if len((entries.get(sid) or {}).get("history") or []) < n]

    _rounds(data, site, registry, ANSWERS, figures, chaos, work, check, login=True)
    figures.add(ANSWERS, records=sum(n == 2 * ROUNDS_OF_TALK for n in acked.values()))


def scenario_publication(root: Path, registry: Path, site: Path, figures: Figures, chaos: random.Random) -> None:
    data = root / "publication"
    ids = [i["id"] for i in _fill(data, registry, 40)]
    _closed(data, ids)
    Accounts(data).add("amy", PASSWORD, "staff", "王干事")
    acked: dict[str, int] = dict.fromkeys(ids, 0)
    turns = 4  # 公开, 撤回公开, 公开, 撤回公开

    def work(client: httpx.Client, stop: threading.Event) -> None:
        for sid in ids:
            while acked[sid] < turns and not stop.is_set():
                history = (TriageBook(data).entry(sid) or {}).get("history") or []
                if len(history) > acked[sid]:
                    acked[sid] = len(history)
                    continue
                if acked[sid] % 2 == 0:
                    done = _office_act(client, sid, "publish", public_title=f"第{acked[sid]}次公开",
                                       public_done="已清理占道摊点。")
                else:
                    done = _office_act(client, sid, "unpublish")
                if done:
                    acked[sid] += 1

    def check(entries: dict) -> list[str]:
        return publication_problems(entries) + [f"{sid}: {n} steps acknowledged, fewer stored" for sid, n in acked.items()
                                                if len((entries.get(sid) or {}).get("history") or []) < n]

    _rounds(data, site, registry, PUBLICATION, figures, chaos, work, check, login=True)
    figures.add(PUBLICATION, records=sum(n == turns for n in acked.values()))


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_verdict_answer_and_publication_writes_killed_at_random_are_whole_or_absent(tmp_path, registry_file,
                                                                                    built_site, quick_scrypt):
    figures = Figures()
    scenarios = {VERDICTS: scenario_verdicts, ANSWERS: scenario_answers, PUBLICATION: scenario_publication}
    with ThreadPoolExecutor(len(scenarios)) as pool:
        futures = [pool.submit(run, tmp_path, registry_file, built_site, figures, random.Random(seed))
                   for seed, run in enumerate(scenarios.values())]
        for future in futures:
            future.result()
    print("\ncrash consistency of 群众说了算:")
    for scenario, row in figures.rows.items():
        print(f"  {scenario:<24} {row['kills']:>3} kills, {row['records']:>4} records, {row['violations']} violations")
        for problem in figures.notes.get(scenario, []):
            print(f"      {problem}")
    assert {s: r["violations"] for s, r in figures.rows.items()} == dict.fromkeys(scenarios, 0)
    assert all(r["kills"] >= KILLS for r in figures.rows.values()), figures.rows
    assert all(r["records"] > 0 for r in figures.rows.values()), figures.rows


def _entry(history, **fields):
    return {**new_entry("2026-11-25T00:00:00+00:00"), "status": "closed", "history": history, **fields}


def _step(action, **extra):
    return {"at": "2026-11-25T00:00:00+00:00", "by": "citizen", "action": action, "from": "closed", "to": "closed",
            "note": "", **extra}


def test_the_checks_name_a_doubled_step_a_reused_question_id_and_a_half_publication():
    verdict = {"choice": "fair", "source": "receipt", "round": 1, "at": "2026-11-25T00:00:00+00:00",
               "first_at": "2026-11-25T00:00:00+00:00", "comment": "", "comment_sealed": None}
    doubled = _entry([_step("verdict", client_id="a", choice="fair")] * 2, verdict=verdict)
    assert "x: a citizen's step stored twice" in verdict_problems({"x": doubled}, {"x": ["a", "b"]})
    stale = _entry([_step("verdict", client_id="a", choice="dissatisfied")], verdict=verdict)
    assert "x: its verdict is not its last verdict step's" in verdict_problems({"x": stale}, {"x": ["a"]})
    question = {"id": "q1", "asked_at": "2026-11-25T00:00:00+00:00", "text": "哪天？", "answer": None}
    reused = _entry([_step("ask", question="q1")] * 2, questions=[question, question])
    assert any("skip or repeat" in p for p in answer_problems({"x": reused}))
    half = _entry([_step("unpublish")], publication={"title": "t", "done": "d", "month": "2026-11",
                                                     "published_at": "x", "station_id": "p", "sector": "s"})
    assert publication_problems({"x": half}) == ["x: published without a step that says so"]
