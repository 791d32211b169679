// Receipt codes, the same function as sync_server/receipt.py: a code derived from the
// submission id, so the page can show it the moment a record is queued, offline.
const ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
const LENGTH = 10;

export function receiptFor(id) {
  let value = BigInt("0x" + id.replaceAll("-", "")) % BigInt(ALPHABET.length) ** BigInt(LENGTH);
  let code = "";
  for (let i = 0; i < LENGTH; i++) {
    code = ALPHABET[Number(value % 31n)] + code;
    value /= 31n;
  }
  return `${code.slice(0, 5)}-${code.slice(5)}`;
}
