// Sync: upload the outbox in batches, delete only what the server acknowledged.
//
// One upload at a time per browser: a Web Lock spans tabs and the service worker, and
// a promise guards double taps within a tab, so no record is ever in flight twice.
// A batch that fails part-way (the connection drops, the server dies) deletes nothing;
// the next attempt resends it and the server answers "duplicate" for what it stored.
// Every request has a deadline: a server that accepts and never answers must not hold
// the lock, or that tablet would never sync again until the tab is closed.
import * as outbox from "./outbox.js";

export const BATCH_RECORDS = 100;         // the server's limit per batch
export const UPLOAD_TIMEOUT_MS = 30000;   // one batch, request and answer together
const BATCH_BYTES = 200 * 1024;           // under the server's 256 KiB body limit
const LOCK = "minqing-outbox-sync";
const FIELDS = ["id", "station_id", "created_at", "rating", "feeling", "suggestion", "phone", "consent"];
// Progress and results go out as events on the global scope (a page or the worker),
// so whoever shows them (the form, the volunteer's panel) need not start the upload.
export const SYNC_EVENT = "minqing-sync";
const encoder = new TextEncoder();

export function newId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function toBatch(records) {
  const batch = [];
  let bytes = 0;
  for (const record of records) {
    const wire = Object.fromEntries(FIELDS.map((f) => [f, record[f] ?? null]));
    // Only a sealed record names `sealed`: the server reads its presence as "sealed".
    if (record.sealed) wire.sealed = record.sealed;
    const size = encoder.encode(JSON.stringify(wire)).length + 1;
    if (batch.length && bytes + size > BATCH_BYTES) break;
    batch.push(wire);
    bytes += size;
  }
  return batch;
}

// What went wrong, for the volunteer: a code for programs, a sentence for people.
export function failure(code, retryAfter = 0) {
  const minutes = Math.max(1, Math.ceil(retryAfter / 60));
  const message = {
    offline: "无法连接服务器，记录仍在本机。",
    timeout: "服务器没有回应，记录仍在本机，稍后自动重试。",
    busy: `服务器繁忙，${minutes} 分钟后重试。记录仍在本机。`,
    disk_full: `服务器存储空间不足，${minutes} 分钟后重试。记录仍在本机，请联系区扫黑办。`,
    server: "服务器暂时出错，记录仍在本机，稍后自动重试。",
    refused: "服务器拒收了这批记录，记录仍在本机。请联系区扫黑办。",
    bad_answer: "服务器的回答无法识别，记录仍在本机，稍后自动重试。",
    storage: "本机存储出错，记录没有发送。请不要清除浏览器数据，并联系区扫黑办。",
  }[code];
  return { code, message, at: new Date().toISOString() };
}

function emit(detail) {
  try {
    globalThis.dispatchEvent?.(new CustomEvent(SYNC_EVENT, { detail }));
  } catch { /* no listeners to tell: nothing lost */ }
}

// POST one body with a deadline covering the answer's body as well as its headers.
// `refusalsRead`: a 4xx answer is the server's word on that one record (a verdict's
// 409), read and returned as `answer`, not a failure of the whole upload.
async function post(url, body, timeoutMs, refusalsRead = false) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body,
      cache: "no-store",
      credentials: "omit",
      signal: controller.signal,
    });
    if (response.status === 429 || response.status === 503) {
      const retryAfter = Number(response.headers.get("Retry-After")) || 60;
      return { error: failure("busy", retryAfter), retryAfter };
    }
    if (response.status === 507) {
      // The intake could not write the inbox (a full disk): nothing was stored.
      const retryAfter = Number(response.headers.get("Retry-After")) || 300;
      return { error: failure("disk_full", retryAfter), retryAfter };
    }
    // The server gave up waiting for the body (a very slow link): a timeout, retried.
    if (response.status === 408) return { error: failure("timeout") };
    if (response.status >= 500) return { error: failure("server") };
    if (!response.ok && !refusalsRead) return { error: failure("refused") };
    try {
      const answer = await response.json();
      if (typeof answer !== "object" || !answer) throw new TypeError("no answer");
      return { answer };
    } catch (exc) {
      if (controller.signal.aborted) throw exc;
      return { error: failure("bad_answer") };
    }
  } catch {
    return { error: failure(controller.signal.aborted ? "timeout" : "offline") };
  } finally {
    clearTimeout(timer);
  }
}

// Upload until the outbox is empty or the network says no.
// Answers {ok, sent, receipts: {id: code}, retryAfter, error}.
async function drain(apiBase, timeoutMs) {
  // A fresh id per upload: the server limits uploads per id in memory, and no id
  // outlives one upload, so nothing stored can tie two of one citizen's reports.
  const device = "d-" + newId();
  const kiosk = (await outbox.getMeta(outbox.META_KEY.kiosk))?.tablet;
  const receipts = {};
  let sent = 0;
  let answered = false;
  const total = (await outbox.counts()).waiting;
  emit({ phase: "start", sent, total });
  for (;;) {
    const batch = toBatch(await outbox.waiting(BATCH_RECORDS));
    if (!batch.length) {
      // Then the citizen's verdicts and answers, behind the same lock.
      const { replies, error, retryAfter } = await sendReplies(apiBase, timeoutMs, Boolean(kiosk));
      if (error) {
        await outbox.setMeta(outbox.META_KEY.lastError, error);
        return { ok: false, sent, receipts, replies, retryAfter: retryAfter || 0, error };
      }
      // "Last successful sync" means the server answered, not that nothing was waiting.
      if (answered) await outbox.setMeta(outbox.META_KEY.lastSync, new Date().toISOString());
      await outbox.deleteMeta("lastError");
      return { ok: true, sent, receipts, replies };
    }
    const body = JSON.stringify({ device_id: device, ...(kiosk ? { kiosk } : {}), submissions: batch });
    const { answer, error, retryAfter } = await post(`${apiBase}/api/submissions/batch`, body, timeoutMs);
    const results = Array.isArray(answer?.results) ? answer.results : [];
    if (error) {
      await outbox.setMeta(outbox.META_KEY.lastError, error);
      return { ok: false, sent, receipts, retryAfter: retryAfter || 0, error };
    }
    const inBatch = new Set(batch.map((r) => r.id));
    const acknowledged = [];
    const rejections = [];
    for (const r of results) {
      if (!inBatch.has(r?.id)) continue;
      if (r.status === "accepted" || r.status === "duplicate") {
        acknowledged.push(r.id);
        receipts[r.id] = r.receipt;
      } else if (r.status === "rejected") {
        rejections.push({ id: r.id, error: r.error });
      }
    }
    if (!acknowledged.length && !rejections.length) {
      // An answer that settles nothing would send the same batch for ever.
      const error = failure("bad_answer");
      await outbox.setMeta(outbox.META_KEY.lastError, error);
      return { ok: false, sent, receipts, error };
    }
    await outbox.settle(acknowledged, rejections);
    answered = true;
    sent += acknowledged.length;
    emit({ phase: "progress", sent, total: Math.max(total, sent) });
  }
}

// Verdicts and answers, one request each, in the order given. The server's answer on
// that id settles it: accepted or duplicate (sent before, its answer lost) is received;
// a refusal (a matter reopened meanwhile) is kept with its sentence for the citizen,
// except on a kiosk, which keeps nothing. No answer at all: it stays and is sent again.
// Answers {replies: {id: {status: "accepted" | "duplicate" | "refused", message?}}, error?, retryAfter?}.
const REPLY_FIELDS = { verdict: ["code", "id", "round", "choice", "comment"], answer: ["code", "id", "question", "text"] };

async function sendReplies(apiBase, timeoutMs, kiosk) {
  const replies = {};
  for (const reply of await outbox.replies()) {
    if (reply.state !== "waiting" || !REPLY_FIELDS[reply.kind]) continue;
    const wire = Object.fromEntries(REPLY_FIELDS[reply.kind].filter((f) => reply[f] != null).map((f) => [f, reply[f]]));
    const { answer, error, retryAfter } = await post(`${apiBase}/api/receipts/${reply.kind}`, JSON.stringify(wire), timeoutMs, true);
    if (error) return { replies, error, retryAfter };
    const received = answer.ok === true && (answer.status === "accepted" || answer.status === "duplicate");
    if (!received && typeof answer.message !== "string") return { replies, error: failure("bad_answer") };
    await outbox.settleReply(reply.id, received || kiosk ? null : { code: answer.error, message: answer.message });
    replies[reply.id] = received ? { status: answer.status } : { status: "refused", message: answer.message };
  }
  return { replies };
}

async function guarded(apiBase, timeoutMs) {
  let result;
  try {
    result = await drain(apiBase, timeoutMs);
  } catch {
    // IndexedDB refused (storage full, evicted): say so, and never leave the lock held.
    result = { ok: false, sent: 0, receipts: {}, error: failure("storage") };
  }
  emit({ phase: "done", result });
  return result;
}

// One upload in flight and one set of triggers per page (or worker), not per copy of
// this module: a station page runs the copy linked into it (build_scripts/inline_modules.py)
// beside the one kiosk.js or a test imports from js/, and both must share them.
const shared = (globalThis[Symbol.for("minqing.sync")] ??= { running: null, started: null });

// `timeoutMs` bounds each batch; tests shorten it, the page keeps the default.
export function syncOutbox(apiBase = "", { timeoutMs = UPLOAD_TIMEOUT_MS } = {}) {
  shared.running ??= (navigator.locks
    ? navigator.locks.request(LOCK, { ifAvailable: true }, (lock) =>
        lock ? guarded(apiBase, timeoutMs) : { ok: true, busy: true, sent: 0, receipts: {} })
    : guarded(apiBase, timeoutMs)
  ).catch(() => ({ ok: false, sent: 0, receipts: {}, error: failure("storage") }))
    .finally(() => { shared.running = null; });
  return shared.running;
}

// A person's "send now": an upload already under way (this page's timer, another tab,
// the worker) is waited for, not reported in place of this one, and then whatever is
// still waiting is sent. What the press achieved is read from the outbox itself.
export async function syncNow(apiBase = "", options = {}) {
  if (shared.running) await shared.running;
  let result = await syncOutbox(apiBase, options);
  if (result.busy && navigator.locks) {
    await navigator.locks.request(LOCK, () => {});
    result = await syncOutbox(apiBase, options);
  }
  return result;
}

// Every trigger the page has: load, `online`, a return to the tab, and a timer with
// capped exponential backoff while records wait (the worker uploads on its own).
// One set of triggers per page, however many parts of the page ask for it.
export function autoSync(apiBase, onChange = () => {}) {
  if (shared.started) {
    globalThis.addEventListener(SYNC_EVENT, (event) => {
      if (event.detail.phase === "done") onChange(event.detail.result);
    });
    return shared.started;
  }
  const MIN = 2000;
  const MAX = 5 * 60 * 1000;
  let delay = MIN;
  let timer = null;

  async function attempt() {
    clearTimeout(timer);
    timer = null;
    const result = await syncOutbox(apiBase);
    let waiting = 1;
    try {
      ({ waiting } = await outbox.counts());
      waiting += (await outbox.replies()).filter((r) => r.state === "waiting").length;
    } catch { /* keep trying on the timer */ }
    onChange(result);
    if (result.ok) delay = MIN;
    else delay = Math.min(MAX, Math.max(delay * 2, (result.retryAfter || 0) * 1000));
    if (waiting > 0 && !result.busy) timer = setTimeout(attempt, result.ok ? MIN : delay);
    else if (result.busy) timer = setTimeout(attempt, MIN);
    return result;
  }

  addEventListener("online", () => { delay = MIN; attempt(); });
  document.addEventListener("visibilitychange", () => { if (!document.hidden) attempt(); });
  shared.started = attempt;
  attempt();
  return attempt;
}
