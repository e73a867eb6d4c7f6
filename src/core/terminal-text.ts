/**
 * Text for a terminal, from fields an attacker controls (log values, JSON keys, file names,
 * feed lines, rule names): every character a terminal acts on instead of showing is written as
 * a visible escape, so that data can neither send escape sequences (window titles, clearing the
 * screen, moving the cursor), forge lines (newline, carriage return, line separators) nor
 * reorder what is shown (Unicode bidi overrides and isolates).
 *
 * Escaped: C0 controls (U+0000-U+001F), DEL (U+007F), C1 controls (U+0080-U+009F; U+009B is a
 * one-character CSI), every Unicode format character (category Cf: bidi embeddings, overrides
 * and isolates U+202A-U+202E and U+2066-U+2069, the marks U+200E, U+200F and U+061C, zero-width
 * characters, the BOM, soft hyphen, tag characters), the line and paragraph separators U+2028
 * and U+2029, and lone surrogates. `\n`, `\r` and `\t` keep their short forms; other characters
 * below U+0100 are written `\xHH`, the rest `\uHHHH` or `\u{HHHHH}`. Everything else, including
 * the backslash, is left as it is. Text without such characters is returned unchanged (one
 * regular expression test).
 */

const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]|\p{Cs}/u;
const UNSAFE_ALL = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]|\p{Cs}/gu;

const SHORT: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function hex(code: number, width: number): string {
  return code.toString(16).padStart(width, '0');
}

function escapeCharacter(character: string): string {
  const short = SHORT[character];
  if (short !== undefined) return short;
  const code = character.codePointAt(0) as number;
  if (code < 0x100) return `\\x${hex(code, 2)}`;
  if (code < 0x10000) return `\\u${hex(code, 4)}`;
  return `\\u{${hex(code, 5)}}`;
}

/** `text` with every control, format and line-separator character written as a visible escape. */
export function terminalText(text: string): string {
  if (!UNSAFE.test(text)) return text;
  return text.replace(UNSAFE_ALL, escapeCharacter);
}

/** True when terminalText would change `text`. */
export function hasTerminalControls(text: string): boolean {
  return UNSAFE.test(text);
}
