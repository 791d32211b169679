// The sealed-envelope format in the browser: the twin of sync_server/sealing.py, held to
// the same vectors (tests/seal_vectors.json). Read that module's docstring for the format.
//
// HPKE (RFC 9180) base mode, single shot, written on WebCrypto alone because no library
// may be loaded from anywhere: DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-256-GCM.
// WebCrypto's HKDF does extract and expand in one call; HPKE needs them apart (labelled),
// so both are built from HMAC-SHA-256 here.

export const VERSION = 1;
export const SUITE = "P256-SHA256-AES256GCM";
const BLOCK = 256;
const LABEL = "minqing-seal-v1";
const KEM_ID = 0x0010, KDF_ID = 0x0001, AEAD_ID = 0x0002;
const utf8 = new TextEncoder();

export class SealError extends Error {
  // `message` is what a person reads; `code` is for the program.
  constructor(code, message) {
    super(message);
    this.code = code;
    this.name = "SealError";
  }
}

/** Whether this page can seal: WebCrypto exists only in a secure context (HTTPS or localhost). */
export function sealingAvailable() {
  return Boolean(globalThis.crypto && globalThis.crypto.subtle);
}

const concat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
};
const i2osp = (n, width) => {
  const out = new Uint8Array(width);
  for (let i = width - 1; i >= 0; i--, n = Math.floor(n / 256)) out[i] = n & 0xff;
  return out;
};

export function toBase64url(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export function fromBase64url(text) {
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]+$/.test(text)) throw new SealError("bad_envelope", "加密记录的格式不对。");
  const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/") + "=".repeat((4 - (text.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

async function hmac(key, data) {
  // An empty HKDF salt means HashLen zero bytes (RFC 5869), and WebCrypto refuses an
  // empty HMAC key; both pad to the same 64-byte block, so the result is the same.
  const raw = key.length ? key : new Uint8Array(32);
  const k = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, data));
}

async function expand(prk, info, length) {
  let block = new Uint8Array(0), out = new Uint8Array(0);
  for (let i = 1; out.length < length; i++) {
    block = await hmac(prk, concat(block, info, Uint8Array.of(i)));
    out = concat(out, block);
  }
  return out.slice(0, length);
}

const HPKE_V1 = utf8.encode("HPKE-v1");
const KEM_SUITE = concat(utf8.encode("KEM"), i2osp(KEM_ID, 2));
const HPKE_SUITE = concat(utf8.encode("HPKE"), i2osp(KEM_ID, 2), i2osp(KDF_ID, 2), i2osp(AEAD_ID, 2));
const labeledExtract = (suite, salt, label, ikm) => hmac(salt, concat(HPKE_V1, suite, utf8.encode(label), ikm));
const labeledExpand = (suite, prk, label, info, length) =>
  expand(prk, concat(i2osp(length, 2), HPKE_V1, suite, utf8.encode(label), info), length);

async function sharedSecret(dh, enc, recipientPoint) {
  const prk = await labeledExtract(KEM_SUITE, new Uint8Array(0), "eae_prk", dh);
  return labeledExpand(KEM_SUITE, prk, "shared_secret", concat(enc, recipientPoint), 32);
}

async function keySchedule(shared, info) {
  const none = new Uint8Array(0);
  const context = concat(
    Uint8Array.of(0), // mode_base
    await labeledExtract(HPKE_SUITE, none, "psk_id_hash", none),
    await labeledExtract(HPKE_SUITE, none, "info_hash", info),
  );
  const secret = await labeledExtract(HPKE_SUITE, shared, "secret", none);
  const key = await labeledExpand(HPKE_SUITE, secret, "key", context, 32);
  const nonce = await labeledExpand(HPKE_SUITE, secret, "base_nonce", context, 12);
  return { key: await crypto.subtle.importKey("raw", key, "AES-GCM", false, ["encrypt", "decrypt"]), nonce };
}

const ecdh = { name: "ECDH", namedCurve: "P-256" };

/** HPKE SingleShot Seal with an empty aad; returns enc || ciphertext. */
export async function hpkeSeal(recipientPoint, info, plaintext) {
  const recipient = await crypto.subtle.importKey("raw", recipientPoint, ecdh, false, []);
  const ephemeral = await crypto.subtle.generateKey(ecdh, true, ["deriveBits"]);
  const enc = new Uint8Array(await crypto.subtle.exportKey("raw", ephemeral.publicKey));
  const dh = new Uint8Array(await crypto.subtle.deriveBits({ name: "ECDH", public: recipient }, ephemeral.privateKey, 256));
  const { key, nonce } = await keySchedule(await sharedSecret(dh, enc, recipientPoint), info);
  const ct = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv: nonce }, key, plaintext));
  return concat(enc, ct);
}

/** HPKE SingleShot Open; `privateKey` is an ECDH CryptoKey, `recipientPoint` its 65-byte public key. */
export async function hpkeOpen(privateKey, recipientPoint, info, message) {
  if (message.length < 65 + 16) throw new SealError("bad_envelope", "加密记录的格式不对。");
  const enc = message.subarray(0, 65);
  let ephemeral;
  try {
    ephemeral = await crypto.subtle.importKey("raw", enc, ecdh, false, []);
  } catch {
    throw new SealError("bad_envelope", "加密记录的格式不对。");
  }
  const dh = new Uint8Array(await crypto.subtle.deriveBits({ name: "ECDH", public: ephemeral }, privateKey, 256));
  const { key, nonce } = await keySchedule(await sharedSecret(dh, enc, recipientPoint), info);
  try {
    return new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv: nonce }, key, message.subarray(65)));
  } catch {
    throw new SealError("tampered", "加密记录无法解开：内容被改动过，或不属于这条记录、这个民情哨。");
  }
}

/** The HPKE info: the part's label, the key id and the record's clear fields, length-prefixed. */
export function sealInfo(part, kid, clear) {
  const fields = [part, kid, clear.id, clear.station_id, clear.created_at, clear.rating || ""];
  return concat(utf8.encode(LABEL), ...fields.flatMap((f) => {
    const data = utf8.encode(String(f));
    return [i2osp(data.length, 4), data];
  }));
}

export function pad(data) {
  const out = new Uint8Array(Math.ceil((data.length + 1) / BLOCK) * BLOCK);
  out.set(data);
  out[data.length] = 0x80;
  return out;
}

export function unpad(data) {
  let end = data.length;
  while (end > 0 && data[end - 1] === 0) end--;
  if (end === 0 || data[end - 1] !== 0x80 || data.length % BLOCK) throw new SealError("bad_envelope", "加密记录的格式不对。");
  return data.subarray(0, end - 1);
}

export function wellFormed(text) {
  const value = String(text ?? "");
  return value.toWellFormed ? value.toWellFormed() : value.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD");
}

/** A key id: the first 64 bits of the SHA-256 of the 65-byte public key, in hex. */
export async function keyId(point) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", point));
  return Array.from(digest.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The `sealed` object for a record: `clear` has id, station_id, created_at, rating;
 * `publicKey` is one entry of keys.json ({kid, key}). The key id is recomputed from the
 * key so a corrupted keys.json cannot seal under a mismatched id.
 */
export async function sealSubmission(clear, { feeling, suggestion, phone }, publicKey) {
  const point = fromBase64url(publicKey.key);
  const kid = await keyId(point);
  if (kid !== publicKey.kid) throw new SealError("bad_key", "加密钥匙文件已损坏，请刷新页面。");
  // A lone surrogate (a half emoji from a broken paste) would survive JSON.stringify as
  // an escape and break the office's pages later: sealed words are always well formed.
  const text = JSON.stringify({ feeling: wellFormed(feeling), suggestion: wellFormed(suggestion) });
  const sealed = { v: VERSION, suite: SUITE, kid, text: null, phone: null };
  sealed.text = toBase64url(await hpkeSeal(point, sealInfo("text", kid, clear), pad(utf8.encode(text))));
  if (phone) {
    sealed.phone = toBase64url(await hpkeSeal(point, sealInfo("phone", kid, clear), pad(utf8.encode(JSON.stringify({ phone })))));
  }
  return sealed;
}

/** Open a sealed record (tests, and any future in-browser reader); `privateKey` is an ECDH CryptoKey. */
export async function openSubmission(clear, sealed, privateKey, point) {
  if (sealed.v !== VERSION || sealed.suite !== SUITE) throw new SealError("unsupported", "这条加密记录的版本本系统不认识。");
  if ((await keyId(point)) !== sealed.kid) throw new SealError("wrong_key", "这条记录不是用这把钥匙加密的。");
  const open = async (part, message) => {
    const padded = await hpkeOpen(privateKey, point, sealInfo(part, sealed.kid, clear), fromBase64url(message));
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(unpad(padded)));
  };
  const text = await open("text", sealed.text);
  const phone = sealed.phone === null ? null : (await open("phone", sealed.phone)).phone;
  return { feeling: text.feeling, suggestion: text.suggestion, phone };
}

/**
 * What form.js and kiosk.js call before a record enters IndexedDB: the record with its
 * words and phone replaced by `sealed`, to the key keys.json names for its station.
 * Null when this page cannot seal (no WebCrypto: plain HTTP) or no key is published for
 * the station: the caller then sends the record as today and the server seals it.
 */
export async function sealRecord(record, keys) {
  const kid = keys && keys.v === 1 && keys.stations ? keys.stations[record.station_id] : undefined;
  if (!kid || !sealingAvailable() || !keys.keys[kid]) return null;
  // The phone goes only with consent: the server refuses a sealed phone without it.
  const words = { feeling: record.feeling || "", suggestion: record.suggestion || "", phone: record.consent ? record.phone : null };
  const sealed = await sealSubmission(record, words, { kid, key: keys.keys[kid].key });
  const { feeling: _f, suggestion: _s, phone: _p, ...clear } = record;
  return { ...clear, sealed };
}
