/**
 * Terminal and markup attacks the hardening tests inject into logs, JSON keys, file names,
 * feed lines and rule names: escape sequences, forged lines, bidi reordering, C1 controls.
 */

/** The attacks of the issue, and their variants. */
export const HOSTILE_SEQUENCES: Record<string, string> = {
  'OSC title': '\u001b]0;owned\u0007',
  'OSC title (ST)': '\u001b]2;owned\u001b\\',
  'OSC 8 link': '\u001b]8;;http://evil.example/\u001b\\click\u001b]8;;\u001b\\',
  'CSI clear screen': '\u001b[2J\u001b[H',
  'CSI cursor up and erase line': '\u001b[1A\u001b[2K',
  'cursor save/restore': '\u001b7\u001b8',
  'SGR hide': '\u001b[8m',
  newline: 'ops\n2026-11-02T10:00:00Z CRITICAL forged-row',
  'carriage return': 'innocent\rEVIL',
  'CR LF': 'a\r\nb',
  tab: 'a\tb',
  backspace: 'abc\b\b\bxyz',
  bell: '\u0007',
  NUL: 'a\u0000b',
  DEL: 'a\u007fb',
  'C1 CSI (U+009B)': '\u009b2J',
  'C1 OSC (U+009D)': '\u009d0;owned\u009c',
  'bidi override RLO': 'user/\u202etxt.exe',
  'bidi isolates': '\u2066a\u2067b\u2068c\u2069',
  'bidi embeddings': '\u202aa\u202bb\u202cc\u202d',
  'line separator': 'a\u2028b\u2029c',
  'zero width': 'ad\u200bmin\u200d\ufeff',
  'tag characters': 'x\u{e0041}\u{e0042}',
  'lone surrogate': 'a\ud800b',
};

/** The sequences whose raw bytes must never reach a terminal, as they are written raw. */
export const RAW_MARKERS = ['\u001b', '\u0007', '\u009b', '\u009d', '\u202e', '\u2066', '\u0000', '\u007f', '\r'];
