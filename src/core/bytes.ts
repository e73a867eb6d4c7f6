/** Byte-level tests every reader of raw input shares. */

/** True when the bytes start with the gzip magic number (1f 8b). */
export function isGzip(bytes: Uint8Array | undefined): boolean {
  return bytes !== undefined && bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** True when the bytes start with the UTF-8 byte order mark (ef bb bf). */
export function hasUtf8Bom(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
}
