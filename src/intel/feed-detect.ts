/**
 * Which kind of feed a file is, from its content (never its name): JSON documents are STIX
 * or MISP by structure; text is CSV when a header line (possibly commented, abuse.ch style)
 * names an indicator column, else a plain list.
 */
import { isCsvHeader, type CsvFeedOptions } from './feed-csv.ts';
import { mispEvents } from './feed-misp.ts';
import { stixObjects } from './feed-stix.ts';

export type FeedFormat = 'list' | 'csv' | 'stix' | 'misp';

/** True when the text starts (after whitespace and a BOM) like a JSON document. */
export function looksLikeJson(text: string): boolean {
  const m = /^[\s\ufeff]*([[{])/.exec(text.slice(0, 64));
  return m !== null;
}

/** The structure of a parsed JSON feed. */
export function detectJsonFeed(doc: unknown): 'stix' | 'misp' | undefined {
  if (stixObjects(doc) !== undefined) return 'stix';
  if (mispEvents(doc) !== undefined) return 'misp';
  return undefined;
}

/** `csv` or `list` for a text feed: looks at the first non-blank lines. */
export function detectTextFeed(text: string, options: CsvFeedOptions = {}): 'csv' | 'list' {
  let seen = 0;
  for (const raw of text.slice(0, 1 << 16).split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (isCsvHeader(line, options)) return 'csv';
    if (!line.startsWith('#') && !line.startsWith(';')) return 'list';
    if (++seen > 50) break;
  }
  return 'list';
}
