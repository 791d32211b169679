// Kiosk mode: a volunteer's shared tablet at one post, all day, often offline.
// Turned on per station and remembered across restarts; after each submit the form is
// empty for the next citizen and nothing the previous one typed stays in the page.
import * as outbox from "./outbox.js";

const KEY = "minqing.kiosk";
const RECEIPT_SHOWN_MS = 30000;

export function kioskStation() {
  try { return localStorage.getItem(KEY); } catch { return null; }
}

async function exportWaiting(stationId) {
  const records = await outbox.all();
  const file = {
    format: "minqing-outbox-export",
    version: 1,
    device_id: await outbox.getMeta("device") || "kiosk-unsynced",
    exported_at: new Date().toISOString(),
    submissions: records.map(({ state, error, ...record }) => record),
  };
  const blob = new Blob([JSON.stringify(file, null, 1)], { type: "application/json" });
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = `minqing-${stationId}-${file.exported_at.slice(0, 10)}.json`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

export function setupKiosk(form, view, refreshCounts) {
  const stationId = form.dataset.stationId;
  const bar = document.querySelector("[data-kiosk-bar]");
  const toggle = document.querySelector("[data-kiosk-toggle]");
  const on = kioskStation() === stationId;
  let clearTimer = null;

  bar.hidden = !on;
  document.body.classList.toggle("mq-kiosk", on);
  toggle.textContent = on ? "退出志愿者模式" : "开启志愿者模式（平板）";
  toggle.addEventListener("click", () => {
    const question = on
      ? "退出志愿者模式？本机待发送的记录会保留。"
      : "在这台平板上为本民情哨开启志愿者模式？每位群众提交后表单会自动清空。";
    if (!confirm(question)) return;
    try {
      if (on) localStorage.removeItem(KEY);
      else localStorage.setItem(KEY, stationId);
    } catch { /* storage refused: the mode lasts for this page only */ }
    location.reload();
  });
  bar.querySelector("[data-export]").addEventListener("click", () => exportWaiting(stationId));

  const clearReceipt = () => { clearTimeout(clearTimer); view.say(""); };
  if (on) form.addEventListener("focusin", clearReceipt);

  return {
    on,
    afterSubmit() {
      if (!on) return;
      // No trail: nothing to go back to, no field that remembers, no text left in the DOM.
      form.reset();
      for (const field of form.querySelectorAll("textarea, input[type=tel]")) field.value = "";
      for (const slot of form.querySelectorAll("[data-error-for]")) slot.textContent = "";
      form.querySelector(".mq-contact")?.removeAttribute("open");
      history.replaceState(null, "", location.pathname);
      document.activeElement?.blur();
      clearTimeout(clearTimer);
      clearTimer = setTimeout(clearReceipt, RECEIPT_SHOWN_MS);
      refreshCounts();
    },
  };
}
