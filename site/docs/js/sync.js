// Sync: upload the outbox in batches, delete only what the server acknowledged.
//
// One upload at a time per browser: a Web Lock spans tabs and the service worker, and
// a promise guards double taps within a tab, so no record is ever in flight twice.
// A batch that fails part-way (the connection drops, the server dies) deletes nothing;
// the next attempt resends it and the server answers "duplicate" for what it stored.
import * as outbox from "./outbox.js";

export const BATCH_RECORDS = 100;         // the server's limit per batch
const BATCH_BYTES = 200 * 1024;           // under the server's 256 KiB body limit
const LOCK = "minqing-outbox-sync";
const FIELDS = ["id", "station_id", "created_at", "rating", "feeling", "suggestion", "phone", "consent"];
const encoder = new TextEncoder();

export function newId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

async function deviceId() {
  let id = await outbox.getMeta("device");
  if (!id) {
    id = "d-" + newId();
    await outbox.setMeta("device", id);
  }
  return id;
}

function toBatch(records) {
  const batch = [];
  let bytes = 0;
  for (const record of records) {
    const wire = Object.fromEntries(FIELDS.map((f) => [f, record[f] ?? null]));
    const size = encoder.encode(JSON.stringify(wire)).length + 1;
    if (batch.length && bytes + size > BATCH_BYTES) break;
    batch.push(wire);
    bytes += size;
  }
  return batch;
}

// Upload until the outbox is empty or the network says no.
// Answers {ok, sent, receipts: {id: code}, retryAfter}.
async function drain(apiBase) {
  const device = await deviceId();
  const receipts = {};
  let sent = 0;
  for (;;) {
    const batch = toBatch(await outbox.waiting(BATCH_RECORDS));
    if (!batch.length) {
      await outbox.setMeta("lastSync", new Date().toISOString());
      return { ok: true, sent, receipts };
    }
    let response;
    try {
      response = await fetch(`${apiBase}/api/submissions/batch`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ device_id: device, submissions: batch }),
        cache: "no-store",
        credentials: "omit",
      });
    } catch {
      return { ok: false, sent, receipts };
    }
    if (!response.ok) {
      return { ok: false, sent, receipts, retryAfter: Number(response.headers.get("Retry-After")) || 0 };
    }
    let results;
    try {
      ({ results } = await response.json());
    } catch {
      return { ok: false, sent, receipts };
    }
    const acknowledged = [];
    const rejections = [];
    for (const r of results) {
      if (r.status === "accepted" || r.status === "duplicate") {
        acknowledged.push(r.id);
        receipts[r.id] = r.receipt;
      } else if (r.status === "rejected") {
        rejections.push({ id: r.id, error: r.error });
      }
    }
    await outbox.settle(acknowledged, rejections);
    sent += acknowledged.length;
  }
}

let running = null;

export function syncOutbox(apiBase = "") {
  running ??= (navigator.locks
    ? navigator.locks.request(LOCK, { ifAvailable: true }, (lock) =>
        lock ? drain(apiBase) : { ok: true, busy: true, sent: 0, receipts: {} })
    : drain(apiBase)
  ).finally(() => { running = null; });
  return running;
}

// Every trigger the page has: load, `online`, a return to the tab, a message from the
// service worker, and a timer with capped exponential backoff while records wait.
export function autoSync(apiBase, onChange) {
  const MIN = 2000;
  const MAX = 5 * 60 * 1000;
  let delay = MIN;
  let timer = null;

  async function attempt() {
    clearTimeout(timer);
    timer = null;
    const result = await syncOutbox(apiBase);
    const { waiting } = await outbox.counts();
    onChange(result);
    if (result.ok) delay = MIN;
    else delay = Math.min(MAX, Math.max(delay * 2, (result.retryAfter || 0) * 1000));
    if (waiting > 0 && !result.busy) timer = setTimeout(attempt, result.ok ? MIN : delay);
    else if (result.busy) timer = setTimeout(attempt, MIN);
    return result;
  }

  addEventListener("online", () => { delay = MIN; attempt(); });
  document.addEventListener("visibilitychange", () => { if (!document.hidden) attempt(); });
  navigator.serviceWorker?.addEventListener("message", (event) => {
    if (event.data === "minqing-sync") attempt();
  });
  attempt();
  return attempt;
}
