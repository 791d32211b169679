// 你说我办 on a post's page: its latest public matters and its 满意率, from the server's
// public list (GET /api/public/matters, cacheable 5 minutes, kept by the service worker
// for offline reading). Staff words only; the server never sends anything else. Without
// JavaScript, or when the list cannot be fetched, the section's link to /results/ stays.
const SHOWN = 3;

const root = document.querySelector("[data-public]");

function monthLabel(month) {
  const [year, number] = String(month).split("-");
  return number ? `${year} 年 ${Number(number)} 月` : "";
}

function render(body) {
  const rate = root.querySelector("[data-public-rate]");
  const list = root.querySelector("[data-public-list]");
  if (body.rate && body.rate.verdicts) {
    rate.textContent = `本哨点满意率 ${body.rate.percent}%（${body.rate.verdicts} 条群众评价，满意与基本满意合计）`;
  } else {
    rate.textContent = body.items.length ? "本哨点暂无群众评价。" : "本哨点还没有公开的办理结果。";
  }
  rate.hidden = false;
  list.replaceChildren(...body.items.slice(0, SHOWN).map((item) => {
    const li = document.createElement("li");
    const title = document.createElement("strong");
    title.textContent = item.title;
    const meta = document.createElement("span");
    meta.className = "mq-public-month";
    meta.textContent = ` · ${monthLabel(item.month)}`;
    const done = document.createElement("p");
    done.textContent = item.done;
    li.append(title, meta, done);
    return li;
  }));
  list.hidden = list.children.length === 0;
  root.dataset.publicReady = "true";
}

if (root && root.dataset.stationId) {
  const url = `${root.dataset.api || ""}/api/public/matters?station=${encodeURIComponent(root.dataset.stationId)}`;
  // Asked afresh on every visit (the server answers 304 while the list is unchanged):
  // a copy kept for its 5 minutes would hide a new publication from a returning citizen.
  fetch(url, { cache: "no-cache" })
    .then((response) => (response.ok ? response.json() : null))
    .then((body) => body && body.ok && render(body))
    .catch(() => {});  // no signal and no kept copy: the link stays
}
