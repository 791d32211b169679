// The service worker: the site's shared assets and the visited pages, offline.
//
// PRECACHE and VERSION are written by the build (build_scripts/precache.py): the shared
// assets and the home page, never every station (that does not scale). A station page
// is kept when visited. Once active, the worker also fetches the offline set: a shell
// page that shows any station's form from the station list, the look-up page and a
// Chinese page for what cannot be shown; a never-visited station then opens offline. Pages are network-first, so a republished page shows as soon
// as there is a signal; assets are cache-first from the versioned precache. The outbox
// lives in IndexedDB, not here, so a new worker never touches queued records.
import { syncOutbox } from "./js/sync.js";
import { META_KEY, PAGES_CACHE, SYNC_TAG, getMeta } from "./js/outbox.js";

const VERSION = "__VERSION__";
const PRECACHE = [/*PRECACHE*/];
const ASSETS = `minqing-assets-${VERSION}`;
const PAGES = PAGES_CACHE;
const PAGE_TIMEOUT_MS = 4000;
// Fetched after activation, so they never weigh on a first visit: the offline set, and
// the home page (in PRECACHE for the version, not for the install).
// The look-up page's own modules (我的回执, the verdict) come with it, and so does the
// volunteer's kiosk.js: a citizen's post page never needs them, and a tablet that turns
// kiosk mode on loads it (and keeps it) as it does.
const OFFLINE_SET = ["./", "s/_shell/", "offline/", "status/", "stations.json", "js/lookup.js", "js/mine.js", "js/verdict.js",
  "js/kiosk.js"];
const CORE = PRECACHE.filter((path) => !OFFLINE_SET.includes(path));
const SHELL_FIELDS = {
  id: "mq-shell-id", name: "MQ_SHELL_NAME", sector: "mq-shell-sector", sector_name: "MQ_SHELL_SECTOR_NAME",
  lead: "MQ_SHELL_LEAD", town: "MQ_SHELL_TOWN", place: "MQ_SHELL_PLACE",
};
const ROOT = new URL("./", self.location.href);

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(ASSETS)
      // "no-cache" revalidates what the page just loaded (a 304), rather than a second download.
      .then((cache) => cache.addAll(CORE.map((path) => new Request(path, { cache: "no-cache" }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    let upgraded = false;
    for (const name of await caches.keys()) {
      if (name.startsWith("minqing-assets-") && name !== ASSETS) {
        await caches.delete(name);
        upgraded = true;
      }
    }
    await self.clients.claim();
    const assets = await caches.open(ASSETS);
    await Promise.all(OFFLINE_SET.map((path) =>
      fetch(new URL(path, ROOT), { cache: "no-cache" }).then((r) => r.ok && assets.put(new URL(path, ROOT), r)).catch(() => {})));
    // Kept pages may point at assets the old version had: refresh them while online
    // (not on a first install: there is nothing old to refresh).
    if (upgraded) {
      const pages = await caches.open(PAGES);
      for (const request of await pages.keys()) {
        fetch(request, { cache: "no-cache" }).then((r) => r.ok && pages.put(request, r)).catch(() => {});
      }
    }
  })());
});

const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// A station never visited: the shell with this station's facts, or null.
async function stationFromShell(url) {
  const match = url.pathname.slice(ROOT.pathname.length).match(/^s\/([a-z0-9-]+)\/(?:index\.html)?$/);
  if (!match) return null;
  const [shell, list] = await Promise.all([caches.match(new URL("s/_shell/", ROOT)), caches.match(new URL("stations.json", ROOT))]);
  if (!shell || !list) return null;
  const station = (await list.json())[match[1]];
  if (!station) return null;
  let html = await shell.text();
  for (const [field, placeholder] of Object.entries(SHELL_FIELDS)) {
    html = html.replaceAll(placeholder, escapeHtml(station[field] ?? ""));
  }
  return new Response(html, { headers: { "Content-Type": "text/html; charset=utf-8" } });
}

// No signal and no copy: the shell for a station, else the Chinese offline page.
async function offlineAnswer(url) {
  return await stationFromShell(url)
    || await caches.match(new URL("offline/", ROOT))
    || new Response("<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>现在没有网络</title>" +
      "<p>现在没有网络，这个页面打不开。请有信号时再试。</p></html>",
    { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
}

async function pageFirstFromNetwork(request) {
  const url = new URL(request.url);
  const pages = await caches.open(PAGES);
  const network = fetch(request).then((response) => {
    // Never keep what the server says not to keep (the office's pages, receipts).
    if (response.ok && !/no-store/.test(response.headers.get("Cache-Control") || "")) {
      pages.put(request, response.clone());
    }
    return response;
  });
  const cached = await pages.match(request, { ignoreSearch: true, ignoreVary: true })
    || await caches.match(request, { ignoreSearch: true, ignoreVary: true });
  if (!cached) return network.catch(() => offlineAnswer(url));
  // With a page to fall back on, a weak signal gets a few seconds, not a blank minute.
  const slow = new Promise((resolve) => setTimeout(() => resolve(cached), PAGE_TIMEOUT_MS));
  return Promise.race([network.catch(() => cached), slow]);
}

// The public list and the /results/ pages, by their whole address (each filter is its own
// answer): fresh when there is a signal, the kept copy without one. What the server
// withdrew is gone from the copy at the next answer.
async function publicFirstFromNetwork(request) {
  const pages = await caches.open(PAGES);
  try {
    const response = await fetch(request);
    if (response.ok) await pages.put(request, response.clone());
    return response;
  } catch (error) {
    const cached = await pages.match(request, { ignoreVary: true });
    if (cached) return cached;
    if (request.mode === "navigate") return offlineAnswer(new URL(request.url));
    throw error;
  }
}

self.addEventListener("fetch", (event) => {
  const { request } = event;
  const url = new URL(request.url);
  // The API and the office's pages are the server's alone: no worker in between.
  if (request.method !== "GET" || url.origin !== location.origin) return;
  // The public 你说我办 list: network-first, kept so a post's page reads it offline.
  if (url.pathname === "/api/public/matters") {
    event.respondWith(publicFirstFromNetwork(request));
    return;
  }
  if (url.pathname.startsWith("/api/") || url.pathname.startsWith("/office/")) return;
  if (request.mode === "navigate" && url.pathname === "/results/") {
    event.respondWith(publicFirstFromNetwork(request));
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(pageFirstFromNetwork(request));
    return;
  }
  event.respondWith(
    caches.match(request, { ignoreSearch: true, ignoreVary: true }).then((cached) => cached || fetch(request)),
  );
});

// Background Sync (Chromium): the worker uploads the outbox itself, as workbox does;
// a page may be closed or not listening, so none is asked to. The Web Lock in sync.js
// keeps an open page and the worker from sending the same batch at once.
self.addEventListener("sync", (event) => {
  if (event.tag !== SYNC_TAG) return;
  event.waitUntil((async () => {
    const result = await syncOutbox((await getMeta(META_KEY.api)) || "");
    // Fire and forget: an open page updates its status at once; none is waited for.
    if (result.sent) new BroadcastChannel(SYNC_TAG).postMessage("sent");
    if (!result.ok) throw new Error("outbox not empty yet: the browser will retry");
  })());
});
