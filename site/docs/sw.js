// The service worker: the site's shared assets and the visited pages, offline.
//
// PRECACHE and VERSION are written by the build (build_scripts/seal.py): the shared
// assets and the home page, never every station (that does not scale). A station page
// is kept when visited. Pages are network-first, so a republished page shows as soon
// as there is a signal; assets are cache-first from the versioned precache. The outbox
// lives in IndexedDB, not here, so a new worker never touches queued records.
import { syncOutbox } from "./js/sync.js";
import { getMeta } from "./js/outbox.js";

const VERSION = "__VERSION__";
const PRECACHE = [/*PRECACHE*/];
const ASSETS = `minqing-assets-${VERSION}`;
const PAGES = "minqing-pages";
const PAGE_TIMEOUT_MS = 4000;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(ASSETS)
      .then((cache) => cache.addAll(PRECACHE.map((path) => new Request(path, { cache: "reload" }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("minqing-assets-") && name !== ASSETS) await caches.delete(name);
    }
    await self.clients.claim();
    // Kept pages may point at assets the old version had: refresh them while online.
    const pages = await caches.open(PAGES);
    for (const request of await pages.keys()) {
      fetch(request, { cache: "no-cache" }).then((r) => r.ok && pages.put(request, r)).catch(() => {});
    }
  })());
});

async function pageFirstFromNetwork(request) {
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
  if (!cached) return network;
  // With a page to fall back on, a weak signal gets a few seconds, not a blank minute.
  const slow = new Promise((resolve) => setTimeout(() => resolve(cached), PAGE_TIMEOUT_MS));
  return Promise.race([network.catch(() => cached), slow]);
}

self.addEventListener("fetch", (event) => {
  const { request } = event;
  const url = new URL(request.url);
  // The API and the office's pages are the server's alone: no worker in between.
  if (request.method !== "GET" || url.origin !== location.origin) return;
  if (url.pathname.startsWith("/api/") || url.pathname.startsWith("/office/")) return;
  if (request.mode === "navigate") {
    event.respondWith(pageFirstFromNetwork(request));
    return;
  }
  event.respondWith(
    caches.match(request, { ignoreSearch: true, ignoreVary: true }).then((cached) => cached || fetch(request)),
  );
});

// Background Sync (Chromium): upload the outbox even when no page is open.
self.addEventListener("sync", (event) => {
  if (event.tag !== "minqing-outbox") return;
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: "window" });
    if (windows.length) {
      for (const client of windows) client.postMessage("minqing-sync");
      return;
    }
    const result = await syncOutbox((await getMeta("api")) || "");
    if (!result.ok) throw new Error("outbox not empty yet: the browser will retry");
  })());
});
