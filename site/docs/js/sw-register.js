// Register the service worker from the site root, so it controls every page.
if ("serviceWorker" in navigator) {
  const root = new URL("../", import.meta.url);
  navigator.serviceWorker.register(new URL("sw.js", root), { scope: root.pathname }).catch(() => {
    // No worker (private mode, an in-app browser): the page still works online and
    // the outbox still queues in IndexedDB while the page is open.
  });
}
