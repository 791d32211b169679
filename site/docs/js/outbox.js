// The outbox: the one module that knows the IndexedDB schema.
//
// A record stays here from the moment a person presses submit until the server has
// acknowledged that very record. Writes use strict durability, so "saved" means on
// disk, not in a buffer a crash can lose. Shaped after idb-keyval: one helper turns
// requests into promises, the database opens lazily and reopens when the browser
// closes it, and every operation is one transaction that resolves on `complete`.

export const DB_NAME = "minqing";
export const DB_VERSION = 4;
export const STORE = "outbox";
export const META = "meta";
export const RECEIPTS = "receipts";  // 我的回执: the citizen's own receipts, never on a kiosk
export const REPLIES = "replies";    // queued verdicts and answers (kind verdict | answer)
// The meta keys, the page cache and the sync tag other modules share: spelled once, here.
export const META_KEY = Object.freeze({
  api: "api", kiosk: "kiosk", kioskTries: "kioskTries", lastError: "lastError", lastExport: "lastExport", lastSync: "lastSync",
});
export const PAGES_CACHE = "minqing-pages";
export const SYNC_TAG = "minqing-outbox";  // the Background Sync tag and the BroadcastChannel

// Explicit, ordered upgrades. Two versions of the page can share this database for a
// moment after a republish (the new service worker takes over open tabs), so an
// upgrade must leave every queued record readable by the new code.
function upgrade(db, tx, oldVersion) {
  if (oldVersion < 1) {
    // Version 1: records keyed by their client-made UUID.
    db.createObjectStore(STORE, { keyPath: "id" });
  }
  if (oldVersion < 2) {
    // Version 2: a state per record (waiting | rejected), a small key-value store for
    // the device id and the last sync, and every version-1 record upgraded in place.
    const store = tx.objectStore(STORE);
    store.createIndex("state", "state");
    db.createObjectStore(META);
    store.openCursor().onsuccess = (event) => {
      const cursor = event.target.result;
      if (!cursor) return;
      const record = cursor.value;
      record.state ??= "waiting";
      record.error ??= null;
      record.consent = Boolean(record.consent);
      record.phone ||= null;
      cursor.update(record);
      cursor.continue();
    };
  }
  if (oldVersion < 3) {
    // Version 3: no lasting browser identifier. Version 2 kept one `device` id for
    // ever and sent it with every upload, which tied one citizen's reports together.
    tx.objectStore(META).delete("device");
  }
  if (oldVersion < 4) {
    // Version 4: 我的回执 keyed by code, and the citizen's verdicts and answers apart from
    // the submissions, so a batch upload never carries one. Queued submissions stay as they are.
    db.createObjectStore(RECEIPTS, { keyPath: "code" });
    db.createObjectStore(REPLIES, { keyPath: "id" }).createIndex("state", "state");
  }
}

const done = (request) =>
  new Promise((resolve, reject) => {
    request.onsuccess = request.oncomplete = () => resolve(request.result);
    request.onerror = request.onabort = () => reject(request.error);
  });

let opening = null;

function open() {
  opening ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = (event) => upgrade(request.result, request.transaction, event.oldVersion);
    request.onsuccess = () => {
      const db = request.result;
      // A newer page wants to upgrade: step aside, and reopen lazily next time.
      db.onversionchange = () => { db.close(); opening = null; };
      db.onclose = () => { opening = null; };
      resolve(db);
    };
    request.onerror = () => { opening = null; reject(request.error); };
    request.onblocked = () => {}; // the older tab closes its handle in onversionchange
  });
  return opening;
}

async function run(stores, mode, work) {
  const db = await open();
  const tx = db.transaction(stores, mode, { durability: "strict" });
  const result = work(tx);
  await done(tx);
  return result instanceof IDBRequest ? result.result : result;
}

export function add(record) {
  return run(STORE, "readwrite", (tx) => {
    tx.objectStore(STORE).add({ ...record, state: "waiting", error: null });
  });
}

export function waiting(limit) {
  return run(STORE, "readonly", (tx) => tx.objectStore(STORE).index("state").getAll("waiting", limit));
}

export function all() {
  return run(STORE, "readonly", (tx) => tx.objectStore(STORE).getAll());
}

export async function counts() {
  const records = await all();
  const rejected = records.filter((r) => r.state === "rejected");
  return { waiting: records.length - rejected.length, rejected };
}

// Apply the server's answer: acknowledged records go, rejected ones stay, marked.
export function settle(acknowledged, rejections) {
  return run(STORE, "readwrite", (tx) => {
    const store = tx.objectStore(STORE);
    for (const id of acknowledged) store.delete(id);
    for (const { id, error } of rejections) {
      store.get(id).onsuccess = (event) => {
        const record = event.target.result;
        if (record) store.put({ ...record, state: "rejected", error });
      };
    }
  });
}

// Put rejected records back in the queue: the volunteer asked to try them again.
export function retry(ids) {
  return run(STORE, "readwrite", (tx) => {
    const store = tx.objectStore(STORE);
    for (const id of ids) {
      store.get(id).onsuccess = (event) => {
        const record = event.target.result;
        if (record?.state === "rejected") store.put({ ...record, state: "waiting", error: null });
      };
    }
  });
}

export function getMeta(key) {
  return run(META, "readonly", (tx) => tx.objectStore(META).get(key));
}

export function setMeta(key, value) {
  return run(META, "readwrite", (tx) => { tx.objectStore(META).put(value, key); });
}

export function deleteMeta(key) {
  return run(META, "readwrite", (tx) => { tx.objectStore(META).delete(key); });
}

// 我的回执: {code, station_id, station_name, created_at, status, checked_at}.
export function keepReceipt(receipt) {
  return run(RECEIPTS, "readwrite", (tx) => {
    const store = tx.objectStore(RECEIPTS);
    store.get(receipt.code).onsuccess = (event) => store.put({ ...event.target.result, ...receipt });
  });
}

// Only a receipt already kept is updated: a code looked up is not added to the list.
export function sawReceipt(code, status) {
  return run(RECEIPTS, "readwrite", (tx) => {
    const store = tx.objectStore(RECEIPTS);
    store.get(code).onsuccess = (event) => {
      const kept = event.target.result;
      if (kept) store.put({ ...kept, status, checked_at: new Date().toISOString() });
    };
  });
}

export function receipts() {
  return run(RECEIPTS, "readonly", (tx) => tx.objectStore(RECEIPTS).getAll());
}

export function forgetReceipt(code) {
  return run(RECEIPTS, "readwrite", (tx) => { tx.objectStore(RECEIPTS).delete(code); });
}

// A verdict or an answer, kept until the server acknowledged that very id.
export function queueReply(reply) {
  return run(REPLIES, "readwrite", (tx) => { tx.objectStore(REPLIES).add({ ...reply, state: "waiting", error: null }); });
}

export function replies() {
  return run(REPLIES, "readonly", (tx) => tx.objectStore(REPLIES).getAll());
}

// Received (or, on a kiosk, settled either way): gone. Refused: kept with the reason.
export function settleReply(id, error = null) {
  return run(REPLIES, "readwrite", (tx) => {
    const store = tx.objectStore(REPLIES);
    if (!error) store.delete(id);
    else store.get(id).onsuccess = (event) => {
      if (event.target.result) store.put({ ...event.target.result, state: "rejected", error });
    };
  });
}
