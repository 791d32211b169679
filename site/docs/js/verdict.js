// 群众说了算 in the look-up: the verdict on a closed matter (满意 / 基本满意 / 不满意 and an
// optional comment) and the answer to the office's question. Each press makes its own id,
// is queued in the outbox (outbox.js REPLIES) and sent exactly once by sync.js, now if
// there is a signal, else at the next one: the server answers `duplicate` for an id it has.
import * as outbox from "./outbox.js";
import { SYNC_EVENT, newId, syncOutbox } from "./sync.js";

const CHOICES = [["satisfied", "满意"], ["fair", "基本满意"], ["dissatisfied", "不满意"]];
const SAVED = "已保存在本机，有信号时会自动发送。";
const MAX = 2000;
const outcomes = {}; // what this page's uploads heard for each id, refusals with their sentence

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.append(...children);
  return node;
}

function verdictForm(body) {
  const form = el("form", { "data-kind": "verdict" });
  const choices = el("fieldset", { class: "mq-rating" }, el("legend", {}, "您对处理结果满意吗？"));
  for (const [value, label] of CHOICES) {
    choices.append(el("label", {}, el("input", { type: "radio", name: "choice", value }), ` ${label}`));
  }
  form.append(choices);
  if (body.verdict) {
    form.prepend(el("p", {}, `您的评价：${body.verdict.choice}。${body.verdict.changeable_until} 前可以修改。`));
  }
  form.append(el("label", { for: "mq-verdict-comment" }, "想说的话（选填）"),
    el("textarea", { id: "mq-verdict-comment", name: "comment", rows: "3" }));
  return form;
}

function answerForm(question) {
  const form = el("form", { "data-kind": "answer" });
  form.append(el("p", {}, "办理单位请您补充：", el("strong", {}, question.text)),
    el("label", { for: "mq-answer-text" }, "您的补充"),
    el("textarea", { id: "mq-answer-text", name: "text", rows: "3" }));
  return form;
}

// What the form's own line says about its queued reply, read from the outbox itself, so
// an upload by the service worker or another tab shows here too.
let received = () => {};

async function refresh(root) {
  const kept = new Map((await outbox.replies().catch(() => [])).map((r) => [r.id, r]));
  for (const line of root.querySelectorAll("[data-reply-id]")) {
    const id = line.dataset.replyId;
    const reply = kept.get(id);
    const heard = outcomes[id];
    if (heard?.status === "refused" || reply?.state === "rejected") {
      line.textContent = `没有被接收：${heard?.message || reply.error?.message || ""}`;
    } else if (!reply) {
      if (line.dataset.state !== "received") received();
      line.textContent = line.dataset.received;
      line.dataset.state = "received";
    } else line.textContent = SAVED;
  }
}

function wire(form, step, api) {
  const button = el("button", { type: "submit", class: "md-button md-button--primary" },
    form.dataset.kind === "verdict" ? (step.body.verdict ? "修改评价" : "提交评价") : "发送补充");
  const error = el("p", { class: "mq-error", role: "alert" });
  const line = el("p", { role: "status", "aria-live": "polite" });
  form.append(error, button, line);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const text = String(data.get(form.dataset.kind === "verdict" ? "comment" : "text") || "").trim();
    const reply = { id: newId(), kind: form.dataset.kind, code: step.code };
    if (reply.kind === "verdict") {
      if (!data.get("choice")) return void (error.textContent = "请选择满意、基本满意或不满意。");
      Object.assign(reply, { round: step.body.round, choice: data.get("choice"), comment: text || null });
    } else {
      if (!text) return void (error.textContent = "请写下您要补充的内容。");
      Object.assign(reply, { question: step.body.question.id, text });
    }
    if ([...text].length > MAX) return void (error.textContent = `最多 ${MAX} 个字，现在有 ${[...text].length} 个字。`);
    if (text.isWellFormed && !text.isWellFormed()) return void (error.textContent = "含有无法保存的字符，请删除后再发送。");
    error.textContent = "";
    // One press, one id: the button stays off, so a second tap queues nothing more.
    button.disabled = true;
    await outbox.queueReply(reply);
    line.dataset.replyId = reply.id;
    line.dataset.received = reply.kind === "verdict" ? "评价已收到，谢谢您！" : "补充已收到，谢谢您！";
    line.textContent = SAVED;
    navigator.serviceWorker?.controller && navigator.serviceWorker.ready
      .then((registration) => registration.sync?.register(outbox.SYNC_TAG)).catch(() => {});
    if (navigator.onLine) syncOutbox(api);
  });
}

// The forms a look-up's answer calls for, in `root`; none for a matter still open.
export function showSteps(root, step, api) {
  root.replaceChildren();
  if (step.body.question) root.append(answerForm(step.body.question));
  if (step.body.verdict_open) root.append(verdictForm(step.body));
  for (const form of root.querySelectorAll("form")) wire(form, step, api);
}

// `onReceived`: called once for each reply the server has received.
export function watchReplies(root, onReceived = () => {}) {
  received = onReceived;
  globalThis.addEventListener(SYNC_EVENT, (event) => {
    if (event.detail.phase !== "done") return;
    Object.assign(outcomes, event.detail.result?.replies);
    refresh(root);
  });
  if ("BroadcastChannel" in self) new BroadcastChannel(outbox.SYNC_TAG).addEventListener("message", () => refresh(root));
}
