// Kiosk mode: a volunteer's shared tablet at one post, all day, often offline.
//
// The way in is the volunteer sheet the office prints (`minqing build`): its QR code
// opens the post's page with `#kiosk=<tablet>.<pin digest>`. The fragment never reaches
// a server; this module drops it from the address at once, asks for the office's PIN,
// and keeps the tablet's name and the digest in the outbox's key-value store. A citizen's
// page never shows anything of this. In kiosk mode the page becomes one screen with one
// purpose: the form, large, with no way away from it. The volunteer's panel (waiting
// records, sync, what failed, export, leaving) opens only with the PIN.
//
// What the PIN is: a lock against the next citizen in the queue, not against someone
// who holds the tablet for an hour. The digest sits in this browser's storage and a
// short PIN falls to a brute-force search; see docs/kiosk.md.
import * as outbox from "./outbox.js";
import { receiptFor } from "./receipt.js";
import { SYNC_EVENT, autoSync, newId, syncNow } from "./sync.js";

export const RECEIPT_SHOWN_MS = 15000;   // the thank-you with the receipt, then the next citizen
export const PANEL_IDLE_MS = 120000;     // a panel left open closes itself
export const PIN_ITERATIONS = 100000;    // the same as build_scripts/volunteer.py
const MAX_TRIES = 5;
const LOCKOUT_MS = 60000;
const TABLET = /^[A-Za-z0-9_-]{1,64}$/;
const DIGEST = /^[0-9a-f]{64}$/;
const LEGACY_KEY = "minqing.kiosk";      // the old switch on every citizen's page

const esc = (text) => String(text ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const when = (iso) => (iso ? new Date(iso).toLocaleString("zh-CN", { hour12: false }) : "");

export async function pinDigest(station, tablet, pin) {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(pin), "PBKDF2", false, ["deriveBits"]);
  const salt = new TextEncoder().encode(`minqing-kiosk:${station}:${tablet}`);
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations: PIN_ITERATIONS }, key, 256);
  return [...new Uint8Array(bits)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

// `#kiosk=<tablet>.<digest>`, read once and removed from the address and the history.
function takeEntry() {
  const match = /^#kiosk=([A-Za-z0-9_-]{1,64})\.([0-9a-f]{64})$/.exec(location.hash);
  if (location.hash.startsWith("#kiosk=")) history.replaceState(null, "", location.pathname + location.search);
  return match ? { tablet: match[1], digest: match[2] } : null;
}

const STYLE = `
html.mq-kiosk body > :not([data-kiosk-root]) { display: none !important; }
html.mq-kiosk body { background: #fff; }
.mq-kiosk-screen { max-width: 900px; margin: 0 auto; padding: 24px 32px 96px; font-size: 24px; line-height: 1.5; color: #1a1a1a; }
.mq-kiosk-screen h1 { font-size: 34px; margin: 0 0 4px; font-weight: 700; }
.mq-kiosk-screen h2 { font-size: 30px; margin: 0 0 12px; }
.mq-kiosk-screen .mq-kiosk-lead { font-size: 22px; color: #333; margin: 0 0 20px; }
.mq-kiosk-screen form, .mq-kiosk-screen form .md-typeset { font-size: 24px; }
.mq-kiosk-screen form label, .mq-kiosk-screen form legend, .mq-kiosk-screen form summary { font-size: 24px; }
.mq-kiosk-screen textarea, .mq-kiosk-screen input[type=tel], .mq-kiosk-dialog input {
  font-size: 24px; width: 100%; box-sizing: border-box; padding: 10px; border: 2px solid #555; border-radius: 6px; }
.mq-kiosk-screen input[type=radio], .mq-kiosk-screen input[type=checkbox] { width: 28px; height: 28px; vertical-align: middle; }
.mq-kiosk-screen button, .mq-kiosk-dialog button { font-size: 24px; min-height: 56px; padding: 8px 24px; margin: 8px 8px 8px 0;
  border-radius: 8px; border: 2px solid #8c1c13; background: #fff; color: #8c1c13; cursor: pointer; }
.mq-kiosk-screen button[type=submit], .mq-kiosk-screen [data-kiosk-next], .mq-kiosk-dialog .mq-primary {
  background: #8c1c13; color: #fff; min-width: 200px; }
.mq-kiosk-screen .mq-receipt { font-size: 44px; font-weight: 700; letter-spacing: 2px; font-family: monospace; }
.mq-kiosk-thanks { padding: 24px; border: 3px solid #2e7d32; border-radius: 12px; background: #f1f8f1; }
.mq-kiosk-notice { padding: 16px; border: 3px solid #b26a00; border-radius: 12px; background: #fff8e1; }
.mq-kiosk-foot { position: fixed; right: 16px; bottom: 12px; }
.mq-kiosk-foot button { font-size: 18px; min-height: 44px; color: #555; border-color: #bbb; }
.mq-kiosk-dialog { font-size: 22px; line-height: 1.5; max-width: 760px; width: 90vw; border: 3px solid #333; border-radius: 12px; padding: 24px; }
.mq-kiosk-dialog::backdrop { background: rgba(0,0,0,.6); }
.mq-kiosk-dialog h2 { font-size: 28px; margin: 0 0 12px; }
.mq-kiosk-dialog progress { width: 100%; height: 24px; }
.mq-kiosk-dialog .mq-warn { color: #8c1c13; font-weight: 700; }
.mq-kiosk-dialog ul { padding-left: 1.2em; max-height: 30vh; overflow: auto; }
`;

function dialog(html) {
  const box = document.createElement("dialog");
  box.className = "mq-kiosk-dialog";
  box.innerHTML = html;
  // Escape must not leave a half-made decision on screen: closing removes the dialog.
  box.addEventListener("close", () => box.remove());
  // In kiosk mode only the kiosk's root is displayed; before it, the root is hidden.
  const kioskMode = document.documentElement.classList.contains("mq-kiosk");
  (kioskMode ? document.querySelector("[data-kiosk-root]") : document.body).append(box);
  box.showModal();
  return box;
}

function confirmBox(title, text, yes) {
  return new Promise((resolve) => {
    const box = dialog(`<h2>${esc(title)}</h2>${text}
      <p><button type="button" class="mq-primary" data-yes>${esc(yes)}</button>
      <button type="button" data-no>取消</button></p>`);
    box.querySelector("[data-yes]").onclick = () => { resolve(true); box.close(); };
    box.querySelector("[data-no]").onclick = () => box.close();
    box.addEventListener("close", () => resolve(false));
  });
}

// Ask for the PIN; true when it matches `digest`. Wrong tries are counted in storage,
// so a reload does not reset them.
function askPin(station, tablet, digest, title, note = "") {
  return new Promise((resolve) => {
    const box = dialog(`<h2>${esc(title)}</h2>${note}
      <form method="dialog" data-pin-form>
        <label>志愿者密码（PIN）<input type="password" inputmode="numeric" autocomplete="off" data-pin maxlength="12"></label>
        <p class="mq-warn" data-pin-error role="alert"></p>
        <button type="submit" class="mq-primary">确定</button>
        <button type="button" data-no>取消</button>
      </form>`);
    const input = box.querySelector("[data-pin]");
    const error = box.querySelector("[data-pin-error]");
    const pinForm = box.querySelector("[data-pin-form]");
    let ok = false;
    box.querySelector("[data-no]").onclick = () => box.close();
    box.addEventListener("close", () => resolve(ok));
    const check = async (pin) => {
      if (ok) return;
      const tries = (await outbox.getMeta(outbox.META_KEY.kioskTries)) || { count: 0, until: 0 };
      if (tries.until > Date.now()) {
        error.textContent = `密码错误次数太多，请 ${Math.ceil((tries.until - Date.now()) / 1000)} 秒后再试。`;
        return;
      }
      if (pin && (await pinDigest(station, tablet, pin)) === digest) {
        await outbox.deleteMeta("kioskTries");
        ok = true;
        box.close();
        return;
      }
      const count = tries.count + 1;
      const locked = count >= MAX_TRIES;
      await outbox.setMeta(outbox.META_KEY.kioskTries, { count: locked ? 0 : count, until: locked ? Date.now() + LOCKOUT_MS : 0 });
      error.textContent = locked ? "密码错误次数太多，请 1 分钟后再试。" : `密码不对，还可以再试 ${MAX_TRIES - count} 次。`;
    };
    // One try at a time, in order: tries checked side by side would each read the same
    // count, and a burst of guesses would never reach the lock. aria-busy while any waits.
    let chain = Promise.resolve();
    let pending = 0;
    pinForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const pin = input.value.trim();
      input.value = "";
      pending += 1;
      pinForm.setAttribute("aria-busy", "true");
      chain = chain.then(() => check(pin)).catch(() => {}).finally(() => {
        pending -= 1;
        if (!pending) pinForm.removeAttribute("aria-busy");
      });
    });
    input.focus();
  });
}

function clearForm(form) {
  form.reset();
  for (const field of form.querySelectorAll("textarea, input[type=tel], input[type=text]")) field.value = "";
  for (const slot of form.querySelectorAll("[data-error-for], [data-count-for]")) slot.textContent = "";
  for (const details of form.querySelectorAll("details")) details.open = false;
  // Let the form's own listeners (counters, hints) redraw for an empty form.
  for (const field of form.querySelectorAll("textarea, input")) field.dispatchEvent(new Event("input", { bubbles: true }));
  history.replaceState(null, "", location.pathname);
  document.activeElement?.blur();
}

class Kiosk {
  constructor(root, config, { form, api, retired, receiptMs = RECEIPT_SHOWN_MS, panelIdleMs = PANEL_IDLE_MS }) {
    Object.assign(this, { root, config, form, api, retired, receiptMs, panelIdleMs });
    this.thanks = null;
    this.timer = null;
  }

  show() {
    const style = document.createElement("style");
    style.textContent = STYLE;
    document.head.append(style);
    document.documentElement.classList.add("mq-kiosk");
    const name = document.querySelector("h1")?.textContent.trim() || "";
    const root = this.root;
    root.replaceChildren();
    root.className = "mq-kiosk-screen";
    root.innerHTML = `<header><h1>${esc(name)}</h1>${this.retired ? "" :
      '<p class="mq-kiosk-lead">我有话要说：请说说您对专项整治的感受和建议，可以匿名。</p>'}</header>
      <div data-kiosk-main></div>
      <div class="mq-kiosk-foot"><button type="button" data-kiosk-open>志愿者</button></div>`;
    if (this.form) root.querySelector("[data-kiosk-main]").append(this.form);
    document.body.prepend(root);
    root.hidden = false;
    // No links away: whatever the page around the form holds, nothing navigates.
    document.addEventListener("click", (event) => {
      if (event.target.closest?.("a[href]:not([download])")) event.preventDefault();
    }, true);
    root.querySelector("[data-kiosk-open]").addEventListener("click", () => this.openPanel());
    if (this.retired) this.showRetired();
  }

  async showRetired() {
    const main = this.root.querySelector("[data-kiosk-main]");
    const { waiting, rejected } = await outbox.counts();
    const left = waiting + rejected.length;
    main.innerHTML = `<div class="mq-kiosk-notice" data-kiosk-retired><h2>本民情哨已撤销，不再收集意见</h2>${left
      ? `<p>这台平板上还有 <b>${left}</b> 条记录没有送到。志愿者请点右下角“志愿者”，同步或导出。</p>`
      : "<p>这台平板上的记录已经全部送到。志愿者可以点右下角“志愿者”，退出志愿者模式。</p>"}</div>`;
  }

  afterSubmit(record) {
    clearForm(this.form);
    clearTimeout(this.timer);
    this.thanks?.remove();
    const thanks = document.createElement("section");
    thanks.className = "mq-kiosk-thanks";
    thanks.setAttribute("role", "status");
    thanks.dataset.kioskThanks = "";
    thanks.innerHTML = `<h2>谢谢您！</h2>
      <p>您的意见已经保存在这台平板上，会尽快送到工作人员手里。</p>
      <p>回执码 <span class="mq-receipt">${receiptFor(record.id)}</span></p>
      <p>请拍照或记下回执码，以后可以凭它在“查询进度”页面查看办理情况。</p>
      <button type="button" data-kiosk-next>下一位</button>`;
    thanks.querySelector("[data-kiosk-next]").addEventListener("click", () => this.next());
    this.form.hidden = true;
    this.form.before(thanks);
    this.thanks = thanks;
    this.timer = setTimeout(() => this.next(), this.receiptMs);
    scrollTo(0, 0);
  }

  // The next citizen: no receipt, no text, the form empty at the top.
  next() {
    clearTimeout(this.timer);
    this.thanks?.remove();
    this.thanks = null;
    clearForm(this.form);
    this.form.hidden = false;
    scrollTo(0, 0);
  }

  async openPanel() {
    const { station, tablet, digest } = this.config;
    if (!(await askPin(station, tablet, digest, "打开志愿者面板"))) return;
    const box = dialog(`<h2>志愿者面板</h2>
      <p>平板：<b>${esc(tablet)}</b></p>
      <p>待发送：<b data-kiosk-waiting>…</b> 条</p>
      <p>上次成功同步：<b data-kiosk-last-sync>…</b></p>
      <p>上次出错：<span data-kiosk-last-error>…</span></p>
      <p><button type="button" class="mq-primary" data-kiosk-sync>立即同步</button></p>
      <div data-kiosk-progress hidden><progress value="0" max="1"></progress><p data-kiosk-progress-text></p></div>
      <p data-kiosk-sync-result role="status"></p>
      <section data-kiosk-rejected hidden><h2>未能发送（<span data-kiosk-rejected-count>0</span> 条）</h2>
        <p>服务器没有接收这些记录。它们仍保存在本机，可以重试，也可以导出后交给区扫黑办。</p>
        <ul data-kiosk-rejected-list></ul>
        <button type="button" data-kiosk-retry>全部重试</button></section>
      <p><button type="button" data-kiosk-export>导出记录</button>
      <button type="button" data-kiosk-leave>退出志愿者模式</button>
      <button type="button" data-kiosk-close>关闭面板</button></p>`);
    box.dataset.kioskPanel = "";
    const $ = (selector) => box.querySelector(selector);
    let idle = null;
    const touch = () => { clearTimeout(idle); idle = setTimeout(() => box.close(), this.panelIdleMs); };
    const refresh = async () => {
      const { waiting, rejected } = await outbox.counts();
      const last = await outbox.getMeta(outbox.META_KEY.lastSync);
      const error = await outbox.getMeta(outbox.META_KEY.lastError);
      $("[data-kiosk-waiting]").textContent = String(waiting);
      $("[data-kiosk-last-sync]").textContent = last ? when(last) : "尚未同步";
      $("[data-kiosk-last-error]").textContent = error ? `${error.message}（${when(error.at)}）` : "无";
      $("[data-kiosk-rejected]").hidden = !rejected.length;
      $("[data-kiosk-rejected-count]").textContent = String(rejected.length);
      $("[data-kiosk-rejected-list]").innerHTML = rejected.map((r) =>
        `<li>回执码 ${receiptFor(r.id)}，${esc(when(r.created_at))}：${esc(r.error?.message || "服务器未接收")}</li>`).join("");
      if (this.retired) this.showRetired();
    };
    const progress = (event) => {
      const { phase, sent, total } = event.detail;
      if (phase === "done") return;
      $("[data-kiosk-progress]").hidden = false;
      $("[data-kiosk-progress] progress").max = Math.max(total, 1);
      $("[data-kiosk-progress] progress").value = sent;
      $("[data-kiosk-progress-text]").textContent = `正在发送… 已发送 ${sent} / 共 ${total} 条`;
    };
    addEventListener(SYNC_EVENT, progress);
    box.addEventListener("close", () => { clearTimeout(idle); removeEventListener(SYNC_EVENT, progress); });
    box.addEventListener("pointerdown", touch);
    box.addEventListener("keydown", touch);
    $("[data-kiosk-close]").onclick = () => box.close();
    $("[data-kiosk-sync]").onclick = async () => {
      const button = $("[data-kiosk-sync]");
      button.disabled = true;
      $("[data-kiosk-sync-result]").textContent = "正在连接服务器…";
      const before = await outbox.counts();
      const result = await syncNow(this.api);
      button.disabled = false;
      $("[data-kiosk-progress]").hidden = true;
      const { waiting, rejected } = await outbox.counts();
      // Counted from the outbox, so an automatic upload that finished a moment before the
      // press is not reported as "0 sent", and one under way at the press is counted.
      const newlyRejected = Math.max(0, rejected.length - before.rejected.length);
      const sent = Math.max(0, before.waiting - waiting - newlyRejected);
      $("[data-kiosk-sync-result]").textContent = result.busy ? "另一个页面正在发送，请稍候再按。"
        : !result.ok ? `同步没有完成：${result.error?.message || "记录仍在本机。"}`
        : (!before.waiting ? `同步完成：没有待发送的记录${rejected.length ? "。" : "，本机的记录都已送到服务器。"}`
          : `同步完成：本次送到 ${sent} 条，待发送 ${waiting} 条。`) +
          (rejected.length ? `有 ${rejected.length} 条未能发送，见下方。` : "");
      refresh();
    };
    $("[data-kiosk-retry]").onclick = async () => {
      // The last result ("N 条未能发送") is stale from this tap on: never leave it showing
      // while the records are being sent again.
      $("[data-kiosk-sync-result]").textContent = "正在重试…";
      const { rejected } = await outbox.counts();
      await outbox.retry(rejected.map((r) => r.id));
      await refresh();
      $("[data-kiosk-sync]").click();
    };
    $("[data-kiosk-export]").onclick = () => this.exportRecords().then(refresh);
    $("[data-kiosk-leave]").onclick = () => this.leave();
    touch();
    refresh();
  }

  async exportRecords() {
    const records = await outbox.all();
    if (!records.length) {
      await confirmBox("没有可导出的记录", "<p>这台平板上没有待发送或未能发送的记录。</p>", "知道了");
      return;
    }
    const now = new Date();
    const stamp = `${now.getFullYear()}${String(now.getMonth() + 1).padStart(2, "0")}${String(now.getDate()).padStart(2, "0")}` +
      `-${String(now.getHours()).padStart(2, "0")}${String(now.getMinutes()).padStart(2, "0")}`;
    const post = (document.querySelector("[data-kiosk-root] h1")?.textContent || this.config.station)
      .replace(/[\\/:*?"<>|\s\u0000-\u001f]+/g, "_").slice(0, 40);
    const name = `民情哨-${post}-${stamp}.json`;
    const sure = await confirmBox("导出记录", `<p>将导出 <b>${records.length}</b> 条记录，文件名 <b>${esc(name)}</b>。</p>
      <p class="mq-warn">${records.every((r) => r.sealed)
        ? "这个文件里群众写的原话和电话号码已加密，只有区里持有钥匙的工作人员能打开。仍请只交给区扫黑办"
        : "这个文件里有群众写的原话和留下的电话号码。只能交给区扫黑办"}，不要发到微信群或其他任何人；交出后请从平板的“下载”里删除。</p>`,
    "我明白，导出");
    if (!sure) return;
    const rejected = records.filter((r) => r.state === "rejected");
    const file = {
      format: "minqing-outbox-export",
      version: 1,
      device_id: "d-" + newId(),
      kiosk: this.config.tablet,
      station_id: this.config.station,
      exported_at: now.toISOString(),
      submissions: records.map(({ state, error, ...record }) => record),
      rejected: rejected.map((r) => ({ id: r.id, error: r.error ?? null })),
    };
    const blob = new Blob([JSON.stringify(file, null, 1)], { type: "application/json" });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = name;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    await outbox.setMeta(outbox.META_KEY.lastExport, { at: now.toISOString(), name, count: records.length });
  }

  async leave() {
    const { waiting, rejected } = await outbox.counts();
    const left = waiting + rejected.length;
    const sure = await confirmBox("退出志愿者模式", left
      ? `<p class="mq-warn">本机还有 ${left} 条记录没有送到。退出后它们仍保存在本机，联网时会继续发送。</p>`
      : "<p>本机的记录已全部送到。</p>", "退出");
    if (!sure) return;
    await outbox.deleteMeta("kiosk");
    location.replace(location.pathname);
  }
}

// Turn kiosk mode on from the volunteer sheet's link, after the PIN.
async function enter(station, entry) {
  const sure = await askPin(station, entry.tablet, entry.digest, "开启志愿者模式",
    `<p>在这台平板上为本民情哨开启志愿者模式（平板名 <b>${esc(entry.tablet)}</b>）。开启后，页面只留下意见表，每位群众提交后自动清空；退出需要密码。</p>`);
  if (!sure) return null;
  const config = { station, tablet: entry.tablet, digest: entry.digest, since: new Date().toISOString() };
  await outbox.setMeta(outbox.META_KEY.kiosk, config);
  return config;
}

let kiosk = null;

async function boot() {
  const root = document.querySelector("[data-kiosk-root]");
  const form = document.getElementById("feedback");
  const station = root?.dataset.stationId || form?.dataset.stationId;
  if (!root || !station) return null;
  try { localStorage.removeItem(LEGACY_KEY); } catch { /* storage refused */ }
  const api = root.dataset.api ?? form?.dataset.api ?? "";
  const retired = "retired" in root.dataset;
  const entry = takeEntry();
  let config = null;
  try {
    config = await outbox.getMeta(outbox.META_KEY.kiosk);
  } catch {
    return null; // no IndexedDB: no kiosk, the citizen's form falls back on its own
  }
  if (entry && TABLET.test(entry.tablet) && DIGEST.test(entry.digest)) config = (await enter(station, entry)) || config;
  if (retired) autoSync(api); // records queued before the post was retired still go out
  if (!config || config.station !== station) return null;
  kiosk = new Kiosk(root, config, { form, api, retired, ...(globalThis.minqingKioskOptions || {}) });
  kiosk.show();
  document.documentElement.dataset.kioskReady = "true";
  return kiosk;
}

const booted = boot();

// The form's side of the contract (js/form.js): after a record is safely queued the
// kiosk takes over the screen; `on` says whether it will.
export function setupKiosk() {
  return {
    get on() { return kiosk !== null; },
    ready: booted,
    afterSubmit(record) { kiosk?.afterSubmit(record); },
  };
}
