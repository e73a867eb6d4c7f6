/**
 * Strict base64 (RFC 4648, the standard alphabet), for payloads carried inside logs. Node's
 * `Buffer.from(text, 'base64')` skips characters outside the alphabet and stops at the first
 * `=`, so a damaged payload would decode to garbage without a word: here anything but the
 * alphabet and final padding is an error that says where, never what (no content is quoted).
 *
 * Several padded blobs written back to back (`...==H4sI...`) are decoded one after the other,
 * as concatenated base64 files are. Line breaks and spaces are allowed only where asked
 * (a file of base64 text, wrapped at 76 columns by `base64`), never inside a JSON string.
 */

/** One blob: whole quanta, then an optional padded (or unpadded) final quantum. */
const BLOB = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2,3})?$/;
const NOT_ALPHABET = /[^A-Za-z0-9+/=]/;
const WHITESPACE = /[\t\n\r ]+/g;

/** Why `text` is not base64, without quoting it. */
function describeDamage(text: string): string {
  const bad = NOT_ALPHABET.exec(text);
  if (bad !== null) return `character ${bad.index} (code ${text.charCodeAt(bad.index)}) is not in the base64 alphabet`;
  const pad = text.indexOf('=');
  if (pad !== -1 && /[^=]/.test(text.slice(pad))) return `the padding at character ${pad} is followed by more text`;
  return `its length (${text.length} characters) is not a whole number of base64 groups`;
}

/**
 * The bytes `text` encodes, or why it is not base64 (a message). `whitespace`: tolerate line
 * breaks, tabs and spaces anywhere (as in a file); otherwise they are damage.
 */
export function decodeBase64(text: string, whitespace = false): Buffer | { error: string } {
  const clean = whitespace ? text.replace(WHITESPACE, '') : text;
  if (clean.length === 0) return Buffer.alloc(0);
  const pad = clean.indexOf('=');
  // The usual case: one blob, padding (if any) at its very end.
  if (pad === -1 || pad >= clean.length - 2) {
    if (!BLOB.test(clean)) return { error: describeDamage(clean) };
    return Buffer.from(clean, 'base64');
  }
  // Blobs back to back: each ends with its padding.
  const parts: Buffer[] = [];
  let start = 0;
  while (start < clean.length) {
    let end = clean.indexOf('=', start);
    if (end === -1) end = clean.length;
    else while (end < clean.length && clean.charCodeAt(end) === 0x3d) end++;
    const blob = clean.slice(start, end);
    if (!BLOB.test(blob)) {
      const damage = describeDamage(blob);
      return { error: start === 0 ? damage : `in the base64 text from character ${start}: ${damage}` };
    }
    parts.push(Buffer.from(blob, 'base64'));
    start = end;
  }
  return Buffer.concat(parts);
}
