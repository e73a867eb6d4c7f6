/**
 * MISP JSON: one event (`{"Event": {...}}`), a list (`{"response": [{"Event": ...}]}` or a
 * bare array), or attributes from restSearch (`{"response": {"Attribute": [...]}}`,
 * `{"Attribute": [...]}`). Attributes are read from the event and from its objects.
 *
 * Only attributes with `to_ids` true (MISP's "use for detection" flag, which is also what
 * MISP exports as STIX indicators) and not deleted are loaded; the others are skipped,
 * counted. Types: `ip-src`, `ip-dst` (side src / dst; CIDR values allowed), `ip-src|port`,
 * `ip-dst|port`, `domain`, `hostname` and `domain|ip` (both halves). A `to_ids` attribute of
 * any other type (url, md5, sha256, email-src...) is an indicator of a kind we do not match:
 * unsupported, as in the other feed formats.
 *
 * Times: `first_seen` is the start of validity; the feed last asserted the attribute at
 * `last_seen`, else the attribute `timestamp`, else `first_seen`, else the event
 * `timestamp` or `date`: the max-age rule counts from there (MISP has no expiry field).
 */
import { feedLimits, reportValue, type FeedContext } from './feed-context.ts';
import type { Indicator, SideHint } from './indicator.ts';
import { parseIndicatorValue } from './indicator-value.ts';
import { parseFeedTime } from './expiry.ts';
import { isJsonObject } from '../core/json-object.ts';

interface MispEvent {
  event: Record<string, unknown> | undefined;
  attributes: unknown[];
}

/** The events (with their attributes) of a parsed MISP document, or undefined when it is not MISP. */
export function mispEvents(doc: unknown): MispEvent[] | undefined {
  const fromEvent = (event: Record<string, unknown>): MispEvent => {
    const attributes: unknown[] = Array.isArray(event.Attribute) ? [...event.Attribute] : [];
    if (Array.isArray(event.Object)) {
      for (const object of event.Object) if (isJsonObject(object) && Array.isArray(object.Attribute)) attributes.push(...object.Attribute);
    }
    return { event, attributes };
  };
  const fromList = (list: unknown[]): MispEvent[] | undefined => {
    const events: MispEvent[] = [];
    for (const item of list) {
      if (isJsonObject(item) && isJsonObject(item.Event)) events.push(fromEvent(item.Event));
      else if (isJsonObject(item) && (Array.isArray(item.Attribute) || 'info' in item)) events.push(fromEvent(item));
      else return undefined;
    }
    return events;
  };
  if (Array.isArray(doc)) return doc.length > 0 ? fromList(doc) : undefined;
  if (!isJsonObject(doc)) return undefined;
  if (isJsonObject(doc.Event)) return [fromEvent(doc.Event)];
  if (Array.isArray(doc.response)) return fromList(doc.response);
  if (isJsonObject(doc.response) && Array.isArray(doc.response.Attribute)) return [{ event: undefined, attributes: doc.response.Attribute }];
  if (Array.isArray(doc.Attribute)) return [{ event: undefined, attributes: doc.Attribute }];
  return undefined;
}

function truthy(value: unknown): boolean {
  return value === true || value === 1 || value === '1' || (typeof value === 'string' && value.toLowerCase() === 'true');
}

const TYPES: Record<string, { side: SideHint; port?: true; domainIp?: true }> = {
  'ip-src': { side: 'src' },
  'ip-dst': { side: 'dst' },
  'ip-src|port': { side: 'src', port: true },
  'ip-dst|port': { side: 'dst', port: true },
  domain: { side: 'any' },
  hostname: { side: 'any' },
  'domain|ip': { side: 'any', domainIp: true },
};

export function parseMispFeed(doc: unknown, ctx: FeedContext): Indicator[] {
  const out: Indicator[] = [];
  const events = mispEvents(doc);
  const limits = feedLimits(ctx);
  if (events === undefined) {
    ctx.fail(ctx.file, 'not a MISP event, event list or attribute list');
    return out;
  }
  for (const { event, attributes } of events) {
    const eventId = event === undefined ? undefined : String(event.id ?? event.uuid ?? '?');
    const eventTime = event === undefined ? undefined : (parseFeedTime(event.timestamp) ?? parseFeedTime(event.date));
    attributes.forEach((attr, i) => {
      if (!isJsonObject(attr)) {
        ctx.invalid(`${ctx.file}#${eventId === undefined ? '' : `event-${eventId}/`}Attribute[${i}]`, `Attribute[${i}] is ${attr === null ? 'null' : Array.isArray(attr) ? 'an array' : `a ${typeof attr}`}, not an object`);
        return;
      }
      const attrId = String(attr.uuid ?? attr.id ?? `Attribute[${i}]`);
      const owner = eventId ?? (attr.event_id === undefined ? undefined : String(attr.event_id));
      const location = `${ctx.file}#${owner === undefined ? '' : `event-${owner}/`}attribute-${attrId}`;
      const spec = typeof attr.type === 'string' ? TYPES[attr.type] : undefined;
      if (truthy(attr.deleted) || !truthy(attr.to_ids)) {
        ctx.skip();
        return;
      }
      if (spec === undefined) {
        const value = typeof attr.value === 'string' ? `: ${JSON.stringify(attr.value.slice(0, 80))}` : '';
        ctx.unsupported(location, `MISP attribute type ${JSON.stringify(String(attr.type ?? '(none)'))} is not supported${value}`);
        return;
      }
      if (typeof attr.value !== 'string') {
        ctx.invalid(location, `${String(attr.type)} attribute has no string value`);
        return;
      }
      const parts: { text: string; side: SideHint; port?: number }[] = [];
      if (spec.port) {
        const bar = attr.value.lastIndexOf('|');
        const port = Number(attr.value.slice(bar + 1));
        if (bar < 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
          ctx.invalid(location, `${String(attr.type)} value ${JSON.stringify(attr.value.slice(0, 80))} is not address|port`);
          return;
        }
        parts.push({ text: attr.value.slice(0, bar), side: spec.side, port });
      } else if (spec.domainIp) {
        const bar = attr.value.indexOf('|');
        if (bar < 0) {
          ctx.invalid(location, `domain|ip value ${JSON.stringify(attr.value.slice(0, 80))} has no "|"`);
          return;
        }
        parts.push({ text: attr.value.slice(0, bar), side: 'any' }, { text: attr.value.slice(bar + 1), side: 'any' });
      } else {
        parts.push({ text: attr.value, side: spec.side });
      }
      const firstSeen = parseFeedTime(attr.first_seen);
      const seenAt = parseFeedTime(attr.last_seen) ?? parseFeedTime(attr.timestamp) ?? firstSeen ?? eventTime;
      for (const part of parts) {
        const parsed = parseIndicatorValue(part.text, limits);
        if (!parsed.ok) {
          reportValue(ctx, location, parsed);
          continue;
        }
        const isIpType = attr.type !== 'domain' && attr.type !== 'hostname';
        if (isIpType && parsed.kind === 'domain' && !spec.domainIp) {
          ctx.invalid(location, `${String(attr.type)} value ${JSON.stringify(part.text.slice(0, 80))} is not an IP address`);
          continue;
        }
        if (!isIpType && parsed.kind !== 'domain') {
          ctx.invalid(location, `${String(attr.type)} value ${JSON.stringify(part.text.slice(0, 80))} is not a domain`);
          continue;
        }
        const indicator: Indicator = {
          kind: parsed.kind,
          value: parsed.value,
          sideHint: parsed.kind === 'domain' ? 'any' : part.side,
          revoked: false,
          feed: ctx.feed,
          provenance: `misp:${owner === undefined ? '' : `event ${owner} `}attr ${attrId}`,
        };
        if (part.port !== undefined) indicator.port = part.port;
        if (firstSeen !== undefined) indicator.validFrom = firstSeen;
        if (seenAt !== undefined) indicator.seenAt = seenAt;
        out.push(indicator);
      }
    });
  }
  return out;
}
