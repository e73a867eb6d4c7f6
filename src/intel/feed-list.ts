/**
 * Plain indicator lists: one IPv4/IPv6 address, CIDR block or domain per line. `#` and `;`
 * start comments (whole-line or trailing); blank lines are ignored; only the first token
 * (up to whitespace or a comma) is read, so `1.2.3.4  # scanner` and Spamhaus DROP's
 * `1.10.16.0/20 ; SBL256894` both work.
 */
import { feedLimits, reportValue, type FeedContext } from './feed-context.ts';
import type { Indicator } from './indicator.ts';
import { parseIndicatorValue } from './indicator-value.ts';

const HASH = 35;
const SEMI = 59;
const COMMA = 44;

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 11 || c === 12 || c === 0xa0 || c === 0xfeff;
}

export function parseListFeed(text: string, ctx: FeedContext): Indicator[] {
  const out: Indicator[] = [];
  const feed = ctx.feed;
  const limits = feedLimits(ctx);
  const n = text.length;
  let pos = 0;
  let lineNo = 0;
  while (pos < n) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = n;
    lineNo++;
    // The first token of the line, comments and surrounding blanks excluded.
    let s = pos;
    while (s < nl && isSpace(text.charCodeAt(s))) s++;
    let e = s;
    while (e < nl) {
      const c = text.charCodeAt(e);
      if (c === HASH || c === SEMI || c === COMMA || isSpace(c)) break;
      e++;
    }
    pos = nl + 1;
    if (e === s) {
      // Blank, comment, or a line starting with a comma: only the last is worth reporting.
      if (s < nl && text.charCodeAt(s) === COMMA) ctx.invalid(`${ctx.file}:${lineNo}`, 'empty indicator value');
      continue;
    }
    const parsed = parseIndicatorValue(text.slice(s, e), limits);
    if (!parsed.ok) {
      reportValue(ctx, `${ctx.file}:${lineNo}`, parsed);
      continue;
    }
    out.push({ kind: parsed.kind, value: parsed.value, sideHint: 'any', revoked: false, feed, provenance: `line ${lineNo}` });
  }
  return out;
}
