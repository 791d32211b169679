// The receipt look-up (查询进度): ask the server for a code's public status only.
const form = document.getElementById("lookup");
const out = document.querySelector("[data-lookup-result]");

// A receipt's 查询进度 link carries the code in the fragment (never sent to a server).
const linked = new URLSearchParams(location.hash.slice(1)).get("code");
if (form && linked) {
  form.elements.code.value = linked.slice(0, 16);
  if (navigator.onLine) queueMicrotask(() => form.requestSubmit());
}

form?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const code = new FormData(form).get("code");
  out.textContent = "正在查询…";
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
      for (const [label, value] of lines) {
        const p = document.createElement("p");
        p.append(`${label}：`);
        const b = document.createElement("strong");
        b.textContent = value;
        p.append(b);
        out.append(p);
      }
    } else {
      out.textContent = body.message || "查询失败，请稍后再试。";
    }
  } catch {
    out.textContent = "现在无法联网查询，请稍后再试。";
  }
});
