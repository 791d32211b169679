// Register the service worker from the site root, so it controls every page. It is an
// ES module (it shares the outbox code); a browser without module workers simply runs
// without one: the page still queues in IndexedDB and syncs while it is open.
// Registered after the page has loaded: the worker's downloads must not compete with
// the form's own scripts on a weak signal.
function register() {
  const root = new URL("../", import.meta.url);
  navigator.serviceWorker
    .register(new URL("sw.js", root), { scope: root.pathname, type: "module", updateViaCache: "none" })
    .then(async (registration) => {
      await navigator.serviceWorker.ready;
      // Background Sync where the browser has it; the page's own triggers elsewhere.
      await registration.sync?.register("minqing-outbox");
    })
    .catch(() => {});
}

if ("serviceWorker" in navigator) {
  if (document.readyState === "complete") register();
  else addEventListener("load", register, { once: true });
}
