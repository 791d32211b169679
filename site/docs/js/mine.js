// 我的回执: the receipts this phone kept when the citizen pressed 提交 (outbox.js RECEIPTS),
// listed offline with the status last seen. 查询 is the only moment a code leaves the
// phone; 删除 asks once more on the same button (no dialog a phone might block).
import * as outbox from "./outbox.js";

const day = (iso) => (iso ? new Date(iso).toLocaleDateString("zh-CN") : "");

function button(text, act) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "md-button";
  b.textContent = text;
  b.addEventListener("click", () => act(b));
  return b;
}

export async function showMine(root, lookUp) {
  const [kept, replies] = await Promise.all([outbox.receipts(), outbox.replies()]).catch(() => [[], []]);
  const waiting = new Set(replies.filter((r) => r.state === "waiting").map((r) => r.code));
  kept.sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)));
  const said = root.querySelector("[data-mine-said]");
  root.querySelector("[data-mine-list]").replaceChildren(...kept.map((r) => {
    const li = document.createElement("li");
    li.dataset.code = r.code;
    const code = document.createElement("strong");
    code.textContent = r.code;
    const seen = r.checked_at ? `（${day(r.checked_at)}查询）` : "";
    li.append(code, `　${r.station_name || ""}　${day(r.created_at)}提交　状态：${r.status || "待发送"}${seen}`,
      waiting.has(r.code) ? "　评价或补充待发送" : "", document.createElement("br"),
      button("查询", () => lookUp(r.code)),
      button("删除", async (b) => {
        if (!b.dataset.sure) {
          b.dataset.sure = "1";
          b.textContent = "确认删除";
          return;
        }
        await outbox.forgetReceipt(r.code);
        said.textContent = `已从本机删除回执 ${r.code}。`;
        showMine(root, lookUp);
      }));
    return li;
  }));
  root.querySelector("[data-mine-empty]").hidden = kept.length > 0;
  root.hidden = false;
}
