// The receipt look-up (查询进度): ask the server for a code's public status only. Around
// it: 我的回执 (mine.js), kept on this phone, and, when the answer calls for them, the
// verdict and answer forms (verdict.js), queued in the outbox and sent by sync.js.
import * as outbox from "./outbox.js";
import { showMine } from "./mine.js";
import { autoSync } from "./sync.js";
import { showSteps, watchReplies } from "./verdict.js";

const form = document.getElementById("lookup");
const out = document.querySelector("[data-lookup-result]");
const steps = document.querySelector("[data-steps]");
const mine = document.querySelector("[data-mine]");
const api = (form?.getAttribute("action") || "").replace(/\/api\/receipts\/lookup$/, "");
// A volunteer's tablet keeps no 我的回执: it shows none and updates none.
const kiosk = outbox.getMeta(outbox.META_KEY.kiosk).then(Boolean, () => false);

// As the server reads a code: letters upper case, the dash where it belongs.
const canonical = (code) => {
  const bare = String(code).toUpperCase().replace(/[^0-9A-Z]/g, "");
  return bare.length === 10 ? `${bare.slice(0, 5)}-${bare.slice(5)}` : bare;
};

// On a kiosk tablet the code, its status and the forms leave the screen once the verdict
// or answer was received, as the station page's thank-you does: nothing for the next citizen.
const CLEAR_MS = globalThis.minqingKioskOptions?.receiptMs ?? 15000;
function clearScreen() {
  form.reset();
  out.replaceChildren();
  steps?.replaceChildren();
  history.replaceState(null, "", location.pathname);
}

function lookUp(code) {
  form.elements.code.value = code;
  form.requestSubmit();
  form.scrollIntoView({ block: "start" });
}

// A receipt's 查询进度 link carries the code in the fragment (never sent to a server).
function fromLink() {
  const linked = new URLSearchParams(location.hash.slice(1)).get("code");
  if (!form || !linked) return;
  form.elements.code.value = linked.slice(0, 16);
  if (navigator.onLine) queueMicrotask(() => form.requestSubmit());
}
fromLink();
addEventListener("hashchange", fromLink);

form?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const code = canonical(new FormData(form).get("code"));
  out.textContent = "正在查询…";
  steps?.replaceChildren();
  try {
    const response = await fetch(form.action, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ code }),
      credentials: "omit",
    });
    const body = await response.json();
    if (response.ok) {
      out.innerHTML = "";
      const lines = [["办理状态", body.status], ["最近更新", body.updated_at]];
      if (body.reply) lines.push(["答复", body.reply]);
      if (body.previous_reply) lines.push(["上一轮的答复", body.previous_reply]);
      if (body.maintained) lines.push(["维持原处理的理由", body.maintained]);
      for (const [label, value] of lines) {
        const p = document.createElement("p");
        p.append(`${label}：`);
        const b = document.createElement("strong");
        b.textContent = value;
        p.append(b);
        out.append(p);
      }
      if (steps) showSteps(steps, { code, body }, api);
      if (!(await kiosk)) {
        await outbox.sawReceipt(code, body.status).catch(() => {});
        if (mine) showMine(mine, lookUp);
      }
    } else {
      out.textContent = body.message || "查询失败，请稍后再试。";
    }
  } catch {
    // Offline: what 我的回执 last saw of this code, said as such.
    const kept = (await kiosk) ? null : (await outbox.receipts().catch(() => [])).find((r) => r.code === code);
    out.textContent = "现在无法联网查询，请稍后再试。" + (kept ? `本机记下的状态：${kept.status || "待发送"}。` : "");
  }
});

if (form) {
  kiosk.then((on) => { if (!on && mine) showMine(mine, lookUp); });
  if (steps) watchReplies(steps, () => kiosk.then((on) => on && setTimeout(clearScreen, CLEAR_MS)));
  // The same triggers as the form's outbox: queued verdicts and answers go at the next signal.
  autoSync(api);
  document.documentElement.dataset.lookupReady = "true";
}
