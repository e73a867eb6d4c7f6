/**
 * STIX 2.1 feeds: a bundle (`{"type": "bundle", "objects": [...]}`), a TAXII 2.1 envelope
 * (`{"objects": [...]}`), a bare array of objects, or one indicator object. Only `indicator`
 * objects are read; `pattern_type` must be `stix` (STIX 2.0 indicators have none and are
 * read too). `valid_from`, `valid_until`, `revoked` and `confidence` are honoured; the
 * pattern's START/STOP narrow the window. `modified` (else `created`, else `valid_from`) is
 * when the feed last asserted the indicator, the base of the max-age rule when there is no
 * `valid_until`. Locations are `file#indicator--<uuid>`.
 *
 * Every malformed entry is reported (TH_INTEL_INDICATOR), never silently passed over: an entry
 * of `objects` that is not an object or has no type, an indicator without a usable id or
 * pattern, a `pattern_type` or `pattern` that is not a string, timestamps that do not parse or
 * `valid_until` not after `valid_from`, `revoked` not a boolean, `confidence` not 0 to 100, and
 * patterns that do not parse or exceed the parser's bounds (stix-pattern.ts).
 */
import { feedLimits, reportValue, type FeedContext } from './feed-context.ts';
import type { Indicator } from './indicator.ts';
import { parseIndicatorValue } from './indicator-value.ts';
import { parseFeedTime } from './expiry.ts';
import { parseStixPattern } from './stix-pattern.ts';
import { isJsonObject } from '../core/json-object.ts';

/** The STIX objects of a parsed JSON document, or undefined when it is not STIX. */
export function stixObjects(doc: unknown): unknown[] | undefined {
  if (Array.isArray(doc)) {
    return doc.length > 0 && doc.every((o) => isJsonObject(o) && typeof o.type === 'string' && typeof o.id === 'string' && o.id.includes('--'))
      ? doc
      : undefined;
  }
  if (!isJsonObject(doc)) return undefined;
  if (doc.type === 'bundle') return Array.isArray(doc.objects) ? doc.objects : [];
  if (doc.type === 'indicator' && typeof doc.pattern === 'string') return [doc];
  if (Array.isArray(doc.objects) && doc.objects.every((o) => isJsonObject(o) && typeof o.type === 'string')) return doc.objects;
  return undefined;
}

/** What a JSON value is, for messages. */
function jsonKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** An id we can put in a location: a string, not too long, no control characters. */
const PRINTABLE_ID = /^[\x21-\x7e]{1,256}$/;

const MAX_REASONS = 3;

/** The reasons a pattern (or part of it) is unsupported, deduplicated and capped for a message. */
function reasons(list: readonly string[]): string {
  const unique = [...new Set(list.map((reason) => reason.slice(0, 120)))];
  const shown = unique.slice(0, MAX_REASONS).join('; ');
  return unique.length > MAX_REASONS ? `${shown}; and ${unique.length - MAX_REASONS} more` : shown;
}

type Checked<T> = { ok: true; value: T | undefined } | { ok: false; message: string };

/** An optional timestamp field: absent is fine, present must parse. */
function timeField(obj: Record<string, unknown>, field: string): Checked<number> {
  const raw = obj[field];
  if (raw === undefined) return { ok: true, value: undefined };
  const value = typeof raw === 'string' ? parseFeedTime(raw) : undefined;
  if (value === undefined) return { ok: false, message: typeof raw === 'string' ? `${field} ${JSON.stringify(raw.slice(0, 40))} is not a timestamp` : `${field} is ${jsonKind(raw)}, not a timestamp` };
  return { ok: true, value };
}

/**
 * The indicator's fields other than the pattern, checked: a malformed one makes the whole
 * indicator invalid (located), as a wrong `valid_until` or `revoked` would change what matches.
 */
function indicatorFields(obj: Record<string, unknown>): Checked<{ validFrom?: number; validUntil?: number; seenAt?: number; confidence?: number; revoked: boolean }> {
  const validFrom = timeField(obj, 'valid_from');
  if (!validFrom.ok) return validFrom;
  const validUntil = timeField(obj, 'valid_until');
  if (!validUntil.ok) return validUntil;
  const modified = timeField(obj, 'modified');
  if (!modified.ok) return modified;
  const created = timeField(obj, 'created');
  if (!created.ok) return created;
  if (validFrom.value !== undefined && validUntil.value !== undefined && validUntil.value <= validFrom.value) {
    return { ok: false, message: 'valid_until is not after valid_from' };
  }
  if (obj.revoked !== undefined && typeof obj.revoked !== 'boolean') return { ok: false, message: `revoked is ${jsonKind(obj.revoked)}, not true or false` };
  const confidence = obj.confidence;
  if (confidence !== undefined && (typeof confidence !== 'number' || !Number.isInteger(confidence) || confidence < 0 || confidence > 100)) {
    return { ok: false, message: typeof confidence === 'number' ? `confidence ${confidence} is not an integer from 0 to 100` : `confidence is ${jsonKind(confidence)}, not an integer from 0 to 100` };
  }
  const fields: { validFrom?: number; validUntil?: number; seenAt?: number; confidence?: number; revoked: boolean } = { revoked: obj.revoked === true };
  if (validFrom.value !== undefined) fields.validFrom = validFrom.value;
  if (validUntil.value !== undefined) fields.validUntil = validUntil.value;
  const seenAt = modified.value ?? created.value ?? validFrom.value;
  if (seenAt !== undefined) fields.seenAt = seenAt;
  if (typeof confidence === 'number') fields.confidence = confidence;
  return { ok: true, value: fields };
}

export function parseStixFeed(doc: unknown, ctx: FeedContext): Indicator[] {
  const out: Indicator[] = [];
  if (isJsonObject(doc) && doc.type === 'bundle' && doc.objects !== undefined && !Array.isArray(doc.objects)) {
    ctx.fail(ctx.file, `the bundle's objects is ${jsonKind(doc.objects)}, not an array`);
    return out;
  }
  const objects = stixObjects(doc);
  if (objects === undefined) {
    ctx.fail(ctx.file, 'not a STIX 2.1 bundle, TAXII envelope or indicator');
    return out;
  }
  const limits = feedLimits(ctx);
  objects.forEach((obj, i) => {
    if (!isJsonObject(obj)) {
      ctx.invalid(`${ctx.file}#objects[${i}]`, `objects[${i}] is ${jsonKind(obj)}, not a STIX object`);
      return;
    }
    if (typeof obj.type !== 'string') {
      ctx.invalid(`${ctx.file}#objects[${i}]`, obj.type === undefined ? 'STIX object has no type' : `STIX object type is ${jsonKind(obj.type)}, not a string`);
      return;
    }
    // Other object types (identity, malware, relationship...) are not indicators: nothing to read.
    if (obj.type !== 'indicator') return;
    const id = typeof obj.id === 'string' && PRINTABLE_ID.test(obj.id) ? obj.id : undefined;
    const location = `${ctx.file}#${id ?? `objects[${i}]`}`;
    if (id === undefined) {
      ctx.invalid(location, obj.id === undefined ? 'indicator has no id' : typeof obj.id === 'string' ? 'indicator id is empty, too long or holds spaces or control characters' : `indicator id is ${jsonKind(obj.id)}, not a string`);
      return;
    }
    if (obj.pattern_type !== undefined && typeof obj.pattern_type !== 'string') {
      ctx.invalid(location, `pattern_type is ${jsonKind(obj.pattern_type)}, not a string`);
      return;
    }
    if (obj.pattern_type !== undefined && obj.pattern_type !== 'stix') {
      ctx.unsupported(location, `pattern_type ${JSON.stringify(obj.pattern_type.slice(0, 40))} is not supported (only stix)`);
      return;
    }
    if (typeof obj.pattern !== 'string') {
      ctx.invalid(location, obj.pattern === undefined ? 'indicator has no pattern' : `pattern is ${jsonKind(obj.pattern)}, not a string`);
      return;
    }
    const fields = indicatorFields(obj);
    if (!fields.ok) {
      ctx.invalid(location, fields.message);
      return;
    }
    const parsed = parseStixPattern(obj.pattern);
    if (!parsed.ok) {
      ctx.invalid(location, parsed.error);
      return;
    }
    if (parsed.terms.length === 0) {
      ctx.unsupported(location, `unsupported pattern (${reasons(parsed.unsupported)}): ${JSON.stringify(obj.pattern.slice(0, 160))}`);
      return;
    }
    if (parsed.unsupported.length > 0) {
      ctx.unsupported(location, `part of the pattern is not supported and was left out (${reasons(parsed.unsupported)})`);
    }
    const { revoked, confidence, seenAt } = fields.value ?? { revoked: false };
    let validFrom = fields.value?.validFrom;
    let validUntil = fields.value?.validUntil;
    if (parsed.start !== undefined) validFrom = Math.max(validFrom ?? -Infinity, parsed.start);
    if (parsed.stop !== undefined) validUntil = Math.min(validUntil ?? Infinity, parsed.stop);
    for (const term of parsed.terms) {
      const value = parseIndicatorValue(term.value, limits);
      if (!value.ok) {
        reportValue(ctx, location, value);
        continue;
      }
      if (value.kind !== term.kind && !(term.kind === 'ipv6' && value.kind === 'ipv4')) {
        ctx.invalid(location, `${JSON.stringify(term.value.slice(0, 80))} is not a valid ${term.kind} value`);
        continue;
      }
      const indicator: Indicator = {
        kind: value.kind,
        value: value.value,
        sideHint: term.side,
        revoked,
        feed: ctx.feed,
        provenance: `stix:${id}`,
      };
      if (term.port !== undefined) indicator.port = term.port;
      if (validFrom !== undefined) indicator.validFrom = validFrom;
      if (validUntil !== undefined) indicator.validUntil = validUntil;
      if (confidence !== undefined) indicator.confidence = confidence;
      if (seenAt !== undefined) indicator.seenAt = seenAt;
      out.push(indicator);
    }
  });
  return out;
}
