/**
 * The one IPv4 dotted-quad parser. Sigma's `|cidr` matching (per event), the threat-intel
 * indexes and the flow CTI matcher all read IPv4 text, and must agree on what an IPv4 address
 * is: a lookup that accepts `010.0.0.1` where a rule rejects it would make the two disagree on
 * the same value. It lives in core so that sigma and intel, peers that may not import each
 * other, share it. Strict, allocation-free and regex-free: it sits on hot paths.
 */

/**
 * `a.b.c.d` in `text[start, end)` as an unsigned 32-bit integer, or -1 when that range is not
 * exactly a strict dotted quad: four decimal octets of 0-255 separated by single dots, no
 * leading zero (`01` is ambiguous: octal in some parsers), no sign, no whitespace, nothing
 * before or after. Never throws.
 */
export function parseIPv4(text: string, start = 0, end = text.length): number {
  // Every strict dotted quad is 7 (`0.0.0.0`) to 15 (`255.255.255.255`) characters long.
  const length = end - start;
  if (length < 7 || length > 15) return -1;
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  let leadingZero = false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (leadingZero) return -1;
      if (digits === 0 && c === 48) leadingZero = true;
      octet = octet * 10 + (c - 48);
      if (octet > 255) return -1;
      digits++;
    } else if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      leadingZero = false;
      dots++;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + octet;
}
