/**
 * STIX 2.1 feeds: a bundle (`{"type": "bundle", "objects": [...]}`), a TAXII 2.1 envelope
 * (`{"objects": [...]}`), a bare array of objects, or one indicator object. Only `indicator`
 * objects are read; `pattern_type` must be `stix` (STIX 2.0 indicators have none and are
 * read too). `valid_from`, `valid_until`, `revoked` and `confidence` are honoured; the
 * pattern's START/STOP narrow the window. `modified` (else `created`, else `valid_from`) is
 * when the feed last asserted the indicator, the base of the max-age rule when there is no
 * `valid_until`. Locations are `file#indicator--<uuid>`.
 */
import type { FeedContext } from './feed-context.ts';
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

export function parseStixFeed(doc: unknown, ctx: FeedContext): Indicator[] {
  const out: Indicator[] = [];
  const objects = stixObjects(doc);
  if (objects === undefined) {
    ctx.fail(ctx.file, 'not a STIX 2.1 bundle, TAXII envelope or indicator');
    return out;
  }
  objects.forEach((obj, i) => {
    if (!isJsonObject(obj) || obj.type !== 'indicator') return;
    const id = typeof obj.id === 'string' ? obj.id : `objects[${i}]`;
    const location = `${ctx.file}#${id}`;
    if (obj.pattern_type !== undefined && obj.pattern_type !== 'stix') {
      ctx.unsupported(location, `pattern_type "${String(obj.pattern_type)}" is not supported (only stix)`);
      return;
    }
    if (typeof obj.pattern !== 'string') {
      ctx.invalid(location, 'indicator has no pattern');
      return;
    }
    const parsed = parseStixPattern(obj.pattern);
    if (!parsed.ok) {
      ctx.invalid(location, parsed.error);
      return;
    }
    if (parsed.terms.length === 0) {
      ctx.unsupported(location, `unsupported pattern (${parsed.unsupported.join('; ')}): ${obj.pattern.slice(0, 160)}`);
      return;
    }
    if (parsed.unsupported.length > 0) {
      ctx.unsupported(location, `part of the pattern is not supported and was left out (${parsed.unsupported.join('; ')})`);
    }
    let validFrom = parseFeedTime(obj.valid_from);
    let validUntil = parseFeedTime(obj.valid_until);
    if (parsed.start !== undefined) validFrom = Math.max(validFrom ?? -Infinity, parsed.start);
    if (parsed.stop !== undefined) validUntil = Math.min(validUntil ?? Infinity, parsed.stop);
    const seenAt = parseFeedTime(obj.modified) ?? parseFeedTime(obj.created) ?? validFrom;
    const confidence = typeof obj.confidence === 'number' ? obj.confidence : undefined;
    const revoked = obj.revoked === true;
    for (const term of parsed.terms) {
      const value = parseIndicatorValue(term.value);
      if (!value.ok) {
        (value.unsupported ? ctx.unsupported : ctx.invalid).call(ctx, location, value.message);
        continue;
      }
      if (value.kind !== term.kind && !(term.kind === 'ipv6' && value.kind === 'ipv4')) {
        ctx.invalid(location, `"${term.value}" is not a valid ${term.kind} value`);
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
