// The feedback form, upgraded: validate in the page, queue in the outbox, then sync.
// Without this script the same form posts straight to the server (see station.html).
import * as outbox from "./outbox.js";
import { receiptFor } from "./receipt.js";
import { autoSync, newId, syncOutbox } from "./sync.js";
// Not imported here: seal.js (needed at the first submit, fetched once the form is ready)
// and kiosk.js (a volunteer's tablet only). On a weak signal every module in this chain
// is bytes and, when discovered late, a round trip before a citizen's form is ready.

// The server's rules (sync_server/words.py, applied by sync_server/intake/submission.py),
// checked here first, whether the record is then sealed or not: the server cannot read
// sealed words, so what passes here is what the office opens. tests/form_vectors.json
// and a code-point-by-code-point comparison of FORBIDDEN keep the two the same.
export const MAX_TEXT = 2000;
// Lone surrogates, noncharacters, controls other than tab and line breaks (C0, DEL, C1),
// the bidi embeddings, overrides and isolates, which reorder what the office reads, the
// line and paragraph separators and the byte order mark. The marks (LRM, RLM, ALM) and
// tag characters stay: Uyghur and flag emoji need them.
const NONCHARACTERS = "\ufdd0-\ufdef" +
  Array.from({ length: 17 }, (_, plane) => String.fromCodePoint(plane * 0x10000 + 0xfffe, plane * 0x10000 + 0xffff)).join("");
export const FORBIDDEN = new RegExp(
  `[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\u2028\\u2029\\ufeff\\ud800-\\udfff${NONCHARACTERS}]`, "u");
const unsaveable = (label) => `“${label}”含有无法保存的字符（如残缺的表情符号、控制字符或文字方向控制符），请删除后再提交。`;
const PHONE = /^(?:1[3-9]\d{9}|0\d{9,11})$/;
const ANSWER_WAIT_MS = 6000;
const SEAL_WAIT_MS = 3000;
const later = (ms) => new Promise((resolve) => setTimeout(() => resolve(null), ms));

// Characters as the server counts them (code points): an emoji is one, not two UTF-16 units.
const characters = (text) => [...text].length;
// What a record carries of a field: CRLF (a form post's) and a lone CR as one LF each, and
// trimmed, as the server does.
const carried = (text) => (text || "").replace(/\r\n?/g, "\n").trim();

export function normalizePhone(raw) {
  // NFKC, as the server: a Chinese keyboard's full-width digits and brackets become ASCII.
  let digits = raw.normalize("NFKC").replace(/[\s\-()（）]/g, "");
  if (digits.startsWith("+86")) digits = digits.slice(3);
  return PHONE.test(digits) ? digits : null;
}

export function validate(values) {
  const errors = {};
  // Checked before trimming, as the server does (trim() drops a U+FEFF, strip() does not),
  // then trimmed with LF line breaks, so the length is what the record will carry.
  const feeling = carried(values.feeling), suggestion = carried(values.suggestion), phone = carried(values.phone);
  for (const [field, label, text] of [["feeling", "您的感受", feeling], ["suggestion", "您的建议", suggestion]]) {
    if (FORBIDDEN.test(values[field] || "")) errors[field] = unsaveable(label);
    else if (characters(text) > MAX_TEXT) {
      errors[field] = `“${label}”最多 ${MAX_TEXT} 个字，现在有 ${characters(text)} 个字。`;
    }
  }
  if (!values.rating && !feeling && !suggestion) {
    errors.form = "请至少选择满意度，或写下感受或建议。";
  }
  if (phone) {
    if (FORBIDDEN.test(values.phone || "")) errors.phone = unsaveable("联系电话");
    else if (!normalizePhone(phone)) errors.phone = "电话号码格式不正确：请填 11 位手机号或带区号的固定电话。";
    else if (!values.consent) errors.consent = "留电话需要勾选同意回访；不想留电话可以清空号码。";
  }
  return errors;
}

function readForm(form) {
  // As typed: `validate` checks the characters before trimming, as the server does.
  const data = new FormData(form);
  return {
    rating: data.get("rating") || null,
    feeling: data.get("feeling") || "",
    suggestion: data.get("suggestion") || "",
    phone: data.get("phone") || "",
    consent: data.get("consent") === "yes",
  };
}

function showErrors(form, errors) {
  for (const slot of form.querySelectorAll("[data-error-for]")) {
    slot.textContent = errors[slot.dataset.errorFor] || "";
  }
  // Screen readers hear the message with the field it belongs to (aria-describedby).
  for (const field of form.querySelectorAll("[data-field]")) {
    if (errors[field.dataset.field]) field.setAttribute("aria-invalid", "true");
    else field.removeAttribute("aria-invalid");
  }
  const first = Object.keys(errors)[0];
  if (first) form.querySelector(`[name=${first}]`)?.focus();
  return !first;
}

const ROOT = new URL("../", import.meta.url);

// The sealing module, asked once the form is ready and again after a failure (offline,
// no worker). Without it a record is stored plain and sealed on arrival, as without keys.
let sealing = null;
function sealModule() {
  sealing ??= import("./seal.js").catch(() => { sealing = null; return null; });
  return sealing;
}

// The sectors' public keys, published by the build and precached by the worker, so a
// tablet offline all day still seals. Asked again after a failure (offline, no worker).
let keysAsked = null;
export function publishedKeys() {
  keysAsked ??= fetch(new URL("keys.json", ROOT)).then((r) => (r.ok ? r.json() : null)).catch(() => null)
    .then((keys) => { if (!keys) keysAsked = null; return keys; });
  return keysAsked;
}

// The receipt on one line, a copy button, and a look-up link with the code filled in
// (in the fragment, which never reaches a server or its log).
function receiptBlock(code) {
  const lookup = new URL(`status/#code=${code}`, ROOT).pathname + `#code=${code}`;
  return `<p class="mq-receipt-line">回执码 <span class="mq-receipt">${code}</span>` +
    ` <button type="button" class="md-button mq-copy" data-copy="${code}">复制</button></p>` +
    `<p>回执码已存入本机的“我的回执”，也请截图保存。凭它可以<a href="${lookup}">查询进度</a>、评价办理结果。</p>`;
}

// What really happens to a record that could not be sent yet, in this browser.
export function pendingPromise(worker = navigator.serviceWorker?.controller, backgroundSync = "SyncManager" in self) {
  if (worker && backgroundSync) return "已保存在本机，有信号时会自动发送，关掉本页也会发送。";
  return "已保存在本机。请保持本页打开，有信号时会自动发送；也可以稍后再打开本页。";
}

const view = {
  status: document.querySelector("[data-status]"),
  pending: null, // the record whose "saved here" message is showing, until it is sent
  say(html) { this.status.innerHTML = html; },
  sent(code) {
    this.pending = null;
    this.say(`<p><strong>已提交</strong>，您写的内容已经送到，谢谢您！</p>${receiptBlock(code)}`);
    outbox.sawReceipt(code, "已提交").catch(() => {});
  },
  // After 提交 the receipt, below the emptied form, comes into view and takes the focus:
  // on a phone the citizen must see at once that the words were kept, not a blank form.
  show() {
    this.status.tabIndex = -1;
    this.status.focus();
    this.status.scrollIntoView({ block: "center" });
  },
  saved(id, waiting) {
    this.pending = id;
    this.say(`<p><strong>${pendingPromise()}</strong>（本机待发送 ${waiting} 条）</p>${receiptBlock(receiptFor(id))}`);
  },
};

view.status?.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const code = button.dataset.copy;
  const done = () => { button.textContent = "已复制"; };
  if (navigator.clipboard?.writeText) navigator.clipboard.writeText(code).then(done, () => {});
  else {
    const range = document.createRange();
    range.selectNodeContents(button.previousElementSibling);
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    if (document.execCommand?.("copy")) done();
  }
});

async function refreshCounts(receipts) {
  const { waiting, rejected } = await outbox.counts();
  for (const el of document.querySelectorAll("[data-outbox-count]")) el.textContent = String(waiting);
  const line = document.querySelector("[data-outbox-line]");
  if (line) line.hidden = waiting === 0;
  // Whoever sent it (this page, another tab, the service worker), say so at once.
  if (view.pending && !(await isQueued(view.pending))) view.sent(receipts?.[view.pending] || receiptFor(view.pending));
  const note = document.querySelector("[data-rejected]");
  if (note) {
    note.hidden = rejected.length === 0;
    note.innerHTML = rejected.map((r) =>
      `<li>${r.created_at.slice(0, 16).replace("T", " ")}：${escapeHtml(r.error?.message || "未被接收")}</li>`).join("");
  }
  const last = await outbox.getMeta(outbox.META_KEY.lastSync);
  for (const el of document.querySelectorAll("[data-last-sync]")) {
    el.textContent = last ? new Date(last).toLocaleString("zh-CN", { hour12: false }) : "尚未同步";
  }
  return waiting;
}

async function isQueued(id) {
  return (await outbox.all()).some((record) => record.id === id);
}

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function timeout(ms) {
  return new Promise((resolve) => setTimeout(() => resolve({ ok: false, receipts: {} }), ms));
}

async function submit(form, kioskLoading, sync) {
  const kiosk = await kioskLoading;
  const typed = readForm(form);
  if (!showErrors(form, validate(typed))) return;
  const values = { ...typed, feeling: carried(typed.feeling), suggestion: carried(typed.suggestion), phone: carried(typed.phone) };
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
  // Sealed before it is stored: the words and phone never rest in IndexedDB in clear.
  // No key for this station, or no WebCrypto (plain HTTP): stored plain, sealed on arrival.
  // Both were asked for when the form became ready; on a dying signal they may never come,
  // and the record must be queued all the same: wait a moment, not for ever.
  const [seal, keys] = (await Promise.race([Promise.all([sealModule(), publishedKeys()]), later(SEAL_WAIT_MS)])) ?? [];
  const stored = (seal && (await seal.sealRecord(record, keys ?? null).catch(() => null))) ?? record;
  try {
    await outbox.add(stored);
  } catch {
    // No IndexedDB here (a private window, a locked-down in-app browser): post the
    // plain form instead, which the server answers with a receipt page.
    form.submit();
    return;
  }
  navigator.storage?.persist?.();
  form.reset();
  // Background Sync after every queued record: the worker uploads even if this page closes.
  navigator.serviceWorker?.controller && navigator.serviceWorker.ready
    .then((registration) => registration.sync?.register(outbox.SYNC_TAG)).catch(() => {});
  if (kiosk.on) {
    // A volunteer's tablet: the kiosk shows the thank-you and clears the screen itself.
    kiosk.afterSubmit(record);
    sync();
    return;
  }
  const code = receiptFor(record.id);
  // 我的回执: the code, the post and the day stay on this phone (never a kiosk's).
  await outbox.keepReceipt({ code, station_id: record.station_id, station_name: form.dataset.stationName || "",
    created_at: record.created_at, status: "待发送", checked_at: null }).catch(() => {});
  view.say(`<p>正在发送…您写的内容已保存在本机。</p>${receiptBlock(code)}`);
  view.show();
  const result = navigator.onLine
    ? await Promise.race([syncOutbox(form.dataset.api), timeout(ANSWER_WAIT_MS)])
    : { ok: false, receipts: {} };
  const waiting = (await outbox.counts()).waiting;
  if (result.receipts[record.id]) view.sent(result.receipts[record.id]);
  else if (!(await isQueued(record.id))) view.sent(receiptFor(record.id));
  else {
    view.saved(record.id, waiting);
    sync();
  }
  await refreshCounts(result.receipts);
}

// A counter near the limit, and no silent cut: the script lifts `maxlength` and says
// how much is over instead.
function setupCounters(form) {
  for (const note of form.querySelectorAll("[data-count-for]")) {
    const field = form.elements[note.dataset.countFor];
    field.removeAttribute("maxlength");
    const update = () => {
      const length = characters(field.value);
      note.textContent = length > MAX_TEXT ? `已超出 ${length - MAX_TEXT} 个字（最多 ${MAX_TEXT} 个字）`
        : length >= MAX_TEXT * 0.9 ? `还可以写 ${MAX_TEXT - length} 个字` : "";
      note.classList.toggle("mq-over", length > MAX_TEXT);
    };
    field.addEventListener("input", update);
    form.addEventListener("reset", () => setTimeout(update));
    update();
  }
}

const NO_KIOSK = { on: false, afterSubmit() {} };

// Kiosk mode (21 KB) only where this browser is a volunteer's tablet: the sheet's link
// (#kiosk=...), a tablet set up earlier (its meta key), or the old switch to clear.
// A citizen's browser has none of these and never downloads it.
async function loadKiosk(form) {
  let wanted = location.hash.startsWith("#kiosk=");
  try { wanted ||= localStorage.getItem("minqing.kiosk") !== null; } catch { /* storage refused */ }
  wanted ||= Boolean(await outbox.getMeta(outbox.META_KEY.kiosk).catch(() => null));
  if (!wanted) return NO_KIOSK;
  try {
    const { setupKiosk } = await import("./kiosk.js");
    const kiosk = setupKiosk(form, view, refreshCounts);
    await kiosk.ready;
    return kiosk;
  } catch {
    return NO_KIOSK; // the volunteer panel failed: the form still works
  }
}

function init(form) {
  const api = form.dataset.api || "";
  // Custom messages in Chinese replace the browser's own validation bubbles.
  form.noValidate = true;
  outbox.setMeta(outbox.META_KEY.api, api).catch(() => {});
  const kiosk = loadKiosk(form);
  setupCounters(form);
  const hint = document.querySelector("[data-offline-hint]");
  if (hint) {
    hint.textContent = navigator.serviceWorker?.controller && "SyncManager" in self
      ? "网络不好时会先保存在本机，有信号时自动发送。"
      : "网络不好时会先保存在本机；请保持本页打开，有信号时自动发送。";
    hint.hidden = false;
  }
  const sync = autoSync(api, (result) => refreshCounts(result?.receipts));
  // The service worker's Background Sync sent records: say so now, not at the next retry.
  if ("BroadcastChannel" in self) new BroadcastChannel(outbox.SYNC_TAG).onmessage = () => refreshCounts();
  let busy = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (busy) return; // a double tap queues one record, not two
    busy = true;
    // Screen readers hear that the form is working; tests wait for it to end.
    form.setAttribute("aria-busy", "true");
    try {
      await submit(form, kiosk, sync);
    } finally {
      busy = false;
      form.removeAttribute("aria-busy");
    }
  });
  refreshCounts();
  // Keep this very page for offline reloads: the worker precaches only shared assets.
  // From the browser's HTTP cache, where the page just came from ("force-cache" takes
  // it although the server said no-cache): not a second download on a weak signal.
  if ("caches" in window && navigator.serviceWorker) {
    navigator.serviceWorker.ready.then(async () => {
      const response = await fetch(location.pathname, { cache: "force-cache", credentials: "same-origin" });
      if (response.ok) await (await caches.open(outbox.PAGES_CACHE)).put(location.pathname, response);
    }).catch(() => {});
  }
  document.documentElement.dataset.formReady = "true";
  performance.mark?.("minqing-form-ready");
  // While the signal lasts: a citizen who loses it before the first submit still seals.
  sealModule();
  publishedKeys();
}

// The station page carries this module inline (build_scripts/inline_modules.py), so
// js/form.js imported as well (a test, a later script) finds the form already wired:
// one submit handler, one record per tap.
const form = document.getElementById("feedback");
if (form && !document.documentElement.dataset.formReady) init(form);
