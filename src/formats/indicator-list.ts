/**
 * A plain threat-intelligence list (one IP address, CIDR block or domain per line, `#` and `;`
 * comments) is configuration for `--cti`, not a log. When a folder scan meets one (the
 * samples keep theirs beside the logs), it is skipped like a digest file instead of being
 * reported as an unknown format.
 */
import { parseIndicatorValue } from '../intel/indicator-value.ts';

/** Larger text is never taken for a list here: the check reads it whole. */
export const MAX_INDICATOR_LIST_BYTES = 1024 * 1024;

/**
 * True when every line is blank, a comment, or one indicator with an optional trailing
 * comment, and at least one line is an indicator.
 */
export function isIndicatorList(text: string): boolean {
  let indicators = 0;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    if (line === '') continue;
    if (/\s/.test(line)) return false;
    const parsed = parseIndicatorValue(line);
    if (!parsed.ok || (parsed.kind === 'domain' && !line.includes('.'))) return false;
    indicators++;
  }
  return indicators > 0;
}
