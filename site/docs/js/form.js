// The feedback form, upgraded: validate in the page, queue in the outbox, then sync.
// Without this script the same form posts straight to the server (see station.html).
import * as outbox from "./outbox.js";
import { receiptFor } from "./receipt.js";
import { autoSync, newId, syncOutbox } from "./sync.js";
import { setupKiosk } from "./kiosk.js";

// The server's limits (sync_server/submission.py), checked here first.
export const MAX_TEXT = 2000;
const PHONE = /^(?:1[3-9]\d{9}|0\d{9,11})$/;
const ANSWER_WAIT_MS = 6000;

export function normalizePhone(raw) {
  let digits = raw.replace(/[\s\-()（）]/g, "");
  if (digits.startsWith("+86")) digits = digits.slice(3);
  return PHONE.test(digits) ? digits : null;
}

export function validate(values) {
  const errors = {};
  for (const [field, label] of [["feeling", "您的感受"], ["suggestion", "您的建议"]]) {
    if (values[field].length > MAX_TEXT) {
      errors[field] = `“${label}”最多 ${MAX_TEXT} 个字，现在有 ${values[field].length} 个字。`;
    }
  }
  if (!values.rating && !values.feeling && !values.suggestion) {
    errors.form = "请至少选择满意度，或写下感受或建议。";
  }
  if (values.phone) {
    if (!normalizePhone(values.phone)) errors.phone = "电话号码格式不正确：请填 11 位手机号或带区号的固定电话。";
    else if (!values.consent) errors.consent = "留电话需要勾选同意回访；不想留电话可以清空号码。";
  }
  return errors;
}

function readForm(form) {
  const data = new FormData(form);
  return {
    rating: data.get("rating") || null,
    feeling: (data.get("feeling") || "").trim(),
    suggestion: (data.get("suggestion") || "").trim(),
    phone: (data.get("phone") || "").trim(),
    consent: data.get("consent") === "yes",
  };
}

function showErrors(form, errors) {
  for (const slot of form.querySelectorAll("[data-error-for]")) {
    slot.textContent = errors[slot.dataset.errorFor] || "";
  }
  const first = Object.keys(errors)[0];
  if (first) form.querySelector(`[name=${first}]`)?.focus();
  return !first;
}

const view = {
  status: document.querySelector("[data-status]"),
  say(html) { this.status.innerHTML = html; },
};

async function refreshCounts() {
  const { waiting, rejected } = await outbox.counts();
  for (const el of document.querySelectorAll("[data-outbox-count]")) el.textContent = String(waiting);
  const note = document.querySelector("[data-rejected]");
  if (note) {
    note.hidden = rejected.length === 0;
    note.innerHTML = rejected.map((r) =>
      `<li>${r.created_at.slice(0, 16).replace("T", " ")}：${escapeHtml(r.error?.message || "未被接收")}</li>`).join("");
  }
  const last = await outbox.getMeta("lastSync");
  for (const el of document.querySelectorAll("[data-last-sync]")) {
    el.textContent = last ? new Date(last).toLocaleString("zh-CN", { hour12: false }) : "尚未同步";
  }
  return waiting;
}

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function timeout(ms) {
  return new Promise((resolve) => setTimeout(() => resolve({ ok: false, receipts: {} }), ms));
}

async function submit(form, kiosk, sync) {
  const values = readForm(form);
  if (!showErrors(form, validate(values))) return;
  const record = {
    id: newId(),
    station_id: form.dataset.stationId,
    created_at: new Date().toISOString(),
    rating: values.rating,
    feeling: values.feeling,
    suggestion: values.suggestion,
    phone: values.phone ? normalizePhone(values.phone) : null,
    consent: Boolean(values.phone) && values.consent,
  };
  try {
    await outbox.add(record);
  } catch {
    // No IndexedDB here (a private window, a locked-down in-app browser): post the
    // plain form instead, which the server answers with a receipt page.
    form.submit();
    return;
  }
  navigator.storage?.persist?.();
  form.reset();
  if (kiosk.on) {
    // A volunteer's tablet: the kiosk shows the thank-you and clears the screen itself.
    kiosk.afterSubmit(record);
    sync();
    return;
  }
  const code = receiptFor(record.id);
  view.say(`<p>正在发送…</p><p>回执码 <span class="mq-receipt">${code}</span></p>`);
  const result = navigator.onLine
    ? await Promise.race([syncOutbox(form.dataset.api), timeout(ANSWER_WAIT_MS)])
    : { ok: false, receipts: {} };
  const waiting = await refreshCounts();
  if (result.receipts[record.id]) {
    view.say(`<p><strong>已提交</strong>，谢谢您！</p><p>回执码 <span class="mq-receipt">${result.receipts[record.id]}</span></p>` +
      `<p>凭回执码可在“查询进度”页面查看办理情况。</p>`);
  } else {
    view.say(`<p><strong>已保存在本机，联网后自动发送</strong>（本机待发送 ${waiting} 条）。</p>` +
      `<p>回执码 <span class="mq-receipt">${code}</span></p>`);
    sync();
  }
}

function init(form) {
  const api = form.dataset.api || "";
  // Custom messages in Chinese replace the browser's own validation bubbles.
  form.noValidate = true;
  outbox.setMeta("api", api).catch(() => {});
  const kiosk = setupKiosk(form, view, refreshCounts);
  const sync = autoSync(api, () => refreshCounts());
  let busy = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (busy) return; // a double tap queues one record, not two
    busy = true;
    try {
      await submit(form, kiosk, sync);
    } finally {
      busy = false;
    }
  });
  for (const button of document.querySelectorAll("[data-sync-now]")) {
    button.addEventListener("click", () => sync());
  }
  refreshCounts();
  // Keep this very page for offline reloads: the worker precaches only shared assets.
  if ("caches" in window && navigator.serviceWorker) {
    navigator.serviceWorker.ready.then(() => caches.open("minqing-pages"))
      .then((cache) => cache.add(location.pathname)).catch(() => {});
  }
  document.documentElement.dataset.formReady = "true";
  performance.mark?.("minqing-form-ready");
}

const form = document.getElementById("feedback");
if (form) init(form);
