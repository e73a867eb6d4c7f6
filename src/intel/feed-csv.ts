/**
 * CSV indicator feeds with a header row. The delimiter (`,` `;` tab `|`) is taken from the
 * header. The indicator column is the one named by `options.column`, else the first header
 * cell among (case, spaces, `_` and `-` ignored): indicator, ioc, value, ip, ip_address,
 * address, dst_ip, destination_ip, dstaddr, src_ip, source_ip, srcaddr, cidr, network,
 * netblock, subnet, domain, domain_name, hostname, host, fqdn. A `dst*` column gives side
 * `dst`, a `src*`/`source*` column side `src`.
 *
 * Optional columns: type (non-network types count as unsupported), port / dst_port,
 * confidence / score, valid_from, valid_until / expires, and a time the feed last asserted
 * the indicator (last_seen, last_online, first_seen, date_added, date, timestamp).
 *
 * Lines starting with `#` are comments, except that a commented header is accepted when
 * no uncommented one follows (abuse.ch: `# "first_seen_utc","dst_ip","dst_port",...`).
 * Quoted cells follow RFC 4180 within one line (tokenised by csv-parse); a quoted cell spanning
 * lines is not supported, and a line that is not valid CSV (a quote left open, text after a
 * closing quote) is one invalid indicator at its `file:line`, not the end of the feed. Lines are
 * split first, by us, so that every location is a line and one bad quote cannot swallow the
 * lines after it.
 */
import { createRequire } from 'node:module';
import type { Options } from 'csv-parse/sync';
import { feedLimits, reportValue, type FeedContext } from './feed-context.ts';
import type { Indicator, SideHint } from './indicator.ts';
import { parseIndicatorValue } from './indicator-value.ts';
import { parseFeedTime } from './expiry.ts';

type CsvParse = typeof import('csv-parse/sync');
let loaded: CsvParse | undefined;

/** csv-parse, loaded at the first CSV line: a scan without a CSV feed does not pay for it. */
function csvParse(): CsvParse {
  loaded ??= createRequire(import.meta.url)('csv-parse/sync') as CsvParse;
  return loaded;
}

export interface CsvFeedOptions {
  /** Header name of the indicator column. */
  column?: string;
}

const INDICATOR_COLUMNS = [
  'indicator',
  'ioc',
  'value',
  'ip',
  'ipaddress',
  'ipaddr',
  'address',
  'dstip',
  'destinationip',
  'dstaddr',
  'srcip',
  'sourceip',
  'srcaddr',
  'cidr',
  'network',
  'netblock',
  'subnet',
  'domain',
  'domainname',
  'hostname',
  'host',
  'fqdn',
];
const TYPE_COLUMNS = ['type', 'indicatortype', 'ioctype', 'kind'];
const PORT_COLUMNS = ['port', 'dstport', 'destinationport'];
const CONFIDENCE_COLUMNS = ['confidence', 'score'];
const VALID_FROM_COLUMNS = ['validfrom'];
const VALID_UNTIL_COLUMNS = ['validuntil', 'expires', 'expiration', 'expiry', 'expiresat'];
const SEEN_COLUMNS = ['lastseen', 'lastseenutc', 'lastonline', 'firstseen', 'firstseenutc', 'dateadded', 'date', 'timestamp', 'created'];
const NETWORK_TYPES = /^(ip|ipv4|ipv6|ip-src|ip-dst|ipv4-addr|ipv6-addr|cidr|ipv4cidr|ipv6cidr|netblock|network|domain|domain-name|hostname|fqdn|host)$/i;

function key(name: string): string {
  return name.trim().toLowerCase().replace(/[\s_-]+/g, '');
}

/** csv-parse's options for one line: RFC 4180 quotes, cells trimmed, a stray quote inside an unquoted cell kept. */
function parseOptions(delimiter: string): Options {
  return { delimiter, quote: '"', escape: '"', relax_quotes: true, relax_column_count: true, trim: true };
}

const OPTIONS = new Map<string, Options>([',', ';', '\t', '|'].map((d) => [d, parseOptions(d)]));

/**
 * Splits one CSV line, cells trimmed. A line with a quote is tokenised by csv-parse (RFC 4180:
 * `""` is a quote inside a quoted cell); a line without one has no quoting to undo and is split
 * at the delimiter, which gives csv-parse's cells, many times faster (feeds are mostly such
 * lines). Undefined when the line is not valid CSV (a quote not closed on the line, text after
 * a closing quote): the caller reports it, located.
 */
export function splitCsvLine(line: string, delimiter: string): string[] | undefined {
  if (!line.includes('"')) {
    const cells = line.split(delimiter);
    for (let i = 0; i < cells.length; i++) cells[i] = (cells[i] as string).trim();
    return cells;
  }
  return csvCells(line, delimiter).cells;
}

/** csv-parse on one line: its cells, or why it is not valid CSV. */
function csvCells(line: string, delimiter: string): { cells?: string[]; error?: string } {
  try {
    const records = csvParse().parse(line, OPTIONS.get(delimiter) ?? parseOptions(delimiter)) as string[][];
    // More than one record: a carriage return inside the line, outside quotes.
    if (records.length > 1) return { error: 'a carriage return inside the line' };
    return { cells: records[0] ?? [''] };
  } catch (error) {
    if (error instanceof csvParse().CsvError) return { error: error.message.replace(/ at line \d+\.?$/, '').replace(/\.$/, '') };
    throw error;
  }
}

function pickDelimiter(line: string): string {
  let best = ',';
  let bestCount = 0;
  for (const d of [',', ';', '\t', '|']) {
    const count = splitCsvLine(line, d)?.length ?? 0;
    if (count > bestCount) {
      best = d;
      bestCount = count;
    }
  }
  return best;
}

interface Header {
  delimiter: string;
  indicator: number;
  side: SideHint;
  type: number;
  port: number;
  confidence: number;
  validFrom: number;
  validUntil: number;
  seen: number;
}

function findColumn(keys: readonly string[], names: readonly string[]): number {
  for (const name of names) {
    const i = keys.indexOf(name);
    if (i >= 0) return i;
  }
  return -1;
}

function headerOf(line: string, options: CsvFeedOptions): Header | undefined {
  const delimiter = pickDelimiter(line);
  const cells = splitCsvLine(line, delimiter);
  if (cells === undefined) return undefined;
  const keys = cells.map(key);
  const wanted = options.column === undefined ? INDICATOR_COLUMNS : [key(options.column)];
  const indicator = findColumn(keys, wanted);
  if (indicator < 0) return undefined;
  const name = keys[indicator] ?? '';
  const side: SideHint = /^(dst|destination)/.test(name) ? 'dst' : /^(src|source)/.test(name) ? 'src' : 'any';
  return {
    delimiter,
    indicator,
    side,
    type: findColumn(keys, TYPE_COLUMNS),
    port: findColumn(keys, PORT_COLUMNS),
    confidence: findColumn(keys, CONFIDENCE_COLUMNS),
    validFrom: findColumn(keys, VALID_FROM_COLUMNS),
    validUntil: findColumn(keys, VALID_UNTIL_COLUMNS),
    seen: findColumn(keys, SEEN_COLUMNS),
  };
}

/** True when the line is a CSV header naming an indicator column (used by format detection). */
export function isCsvHeader(line: string, options: CsvFeedOptions = {}): boolean {
  const stripped = line.replace(/^#\s*/, '');
  const delimiter = pickDelimiter(stripped);
  return (splitCsvLine(stripped, delimiter)?.length ?? 0) >= 2 && headerOf(stripped, options) !== undefined;
}

export function parseCsvFeed(text: string, ctx: FeedContext, options: CsvFeedOptions = {}): Indicator[] {
  const out: Indicator[] = [];
  const lines = text.split('\n');
  const limits = feedLimits(ctx);
  let header: Header | undefined;
  let commented: Header | undefined;
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let line = lines[i] ?? '';
    if (line.endsWith('\r')) line = line.slice(0, -1);
    const first = line.trimStart();
    if (first === '') continue;
    if (first.charCodeAt(0) === 35) {
      if (header === undefined) {
        const h = headerOf(line.trimStart().replace(/^#\s*/, ''), options);
        if (h && (splitCsvLine(line.trimStart().replace(/^#\s*/, ''), h.delimiter)?.length ?? 0) >= 2) commented = h;
      }
      continue;
    }
    if (header === undefined) {
      header = headerOf(line, options);
      if (header !== undefined) continue;
      header = commented;
      if (header === undefined) {
        ctx.fail(
          `${ctx.file}:${lineNo}`,
          options.column === undefined
            ? 'CSV feed has no header naming an indicator column (indicator, ip, ip_address, value, dst_ip, domain, ...); name it with the column option'
            : `CSV feed has no column named "${options.column}"`,
        );
        return out;
      }
    }
    const location = `${ctx.file}:${lineNo}`;
    const cells = splitCsvLine(line, header.delimiter);
    if (cells === undefined) {
      ctx.invalid(location, `not a valid CSV line: ${csvCells(line, header.delimiter).error ?? 'malformed quotes'}`);
      continue;
    }
    const raw = cells[header.indicator];
    if (raw === undefined || raw === '') {
      ctx.invalid(location, 'the indicator column is empty');
      continue;
    }
    const parsed = parseIndicatorValue(raw, limits);
    if (!parsed.ok && parsed.tooBroad === true) {
      reportValue(ctx, location, parsed);
      continue;
    }
    if (!parsed.ok) {
      const type = header.type >= 0 ? (cells[header.type] ?? '') : '';
      const otherType = type !== '' && !NETWORK_TYPES.test(type);
      if (parsed.unsupported || otherType) ctx.unsupported(location, otherType ? `indicator type ${JSON.stringify(type.slice(0, 40))} is not supported` : parsed.message);
      else ctx.invalid(location, parsed.message);
      continue;
    }
    const indicator: Indicator = {
      kind: parsed.kind,
      value: parsed.value,
      sideHint: parsed.kind === 'domain' ? 'any' : header.side,
      revoked: false,
      feed: ctx.feed,
      provenance: `line ${lineNo}`,
    };
    const port = header.port >= 0 ? Number(cells[header.port]) : NaN;
    if (Number.isInteger(port) && port >= 0 && port <= 65535 && cells[header.port] !== '') indicator.port = port;
    const confidence = header.confidence >= 0 ? Number(cells[header.confidence]) : NaN;
    if (Number.isFinite(confidence) && cells[header.confidence] !== '') indicator.confidence = confidence;
    const validFrom = header.validFrom >= 0 ? parseFeedTime(cells[header.validFrom]) : undefined;
    if (validFrom !== undefined) indicator.validFrom = validFrom;
    const validUntil = header.validUntil >= 0 ? parseFeedTime(cells[header.validUntil]) : undefined;
    if (validUntil !== undefined) indicator.validUntil = validUntil;
    const seen = header.seen >= 0 ? parseFeedTime(cells[header.seen]) : undefined;
    if (seen !== undefined) indicator.seenAt = seen;
    out.push(indicator);
  }
  return out;
}
