/**
 * A tiny HTML builder: a tagged template that escapes every interpolation by default. Every
 * value shown in the UI may come from a log (attacker-controlled), so nothing reaches the page
 * unescaped unless it was built by `html` itself or wrapped in `raw()` on purpose (markup
 * written in this folder, never data).
 *
 *   html`<td>${alert.actor}</td>`          // escaped: & < > " ' and ` become entities
 *   html`<ul>${items.map((i) => html`<li>${i}</li>`)}</ul>`   // arrays are joined, each part escaped
 *   html`<p>${raw('<b>trusted</b>')}</p>`  // only for constant markup
 *
 * Escaping covers both text and quoted attribute values (always quote attributes). URLs in
 * attributes are built with `url()` (encodeURIComponent per part, and only relative paths or
 * http(s) links), never by interpolating a value into `href` directly.
 */

const SAFE = Symbol('trailhound.safe-html');

/** Markup that is already safe to put in a page. */
export interface SafeHtml {
  readonly [SAFE]: true;
  readonly value: string;
}

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/** Text escaped for HTML text and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (character) => ESCAPES[character] as string);
}

function safe(value: string): SafeHtml {
  return { [SAFE]: true, value };
}

export function isSafeHtml(value: unknown): value is SafeHtml {
  return typeof value === 'object' && value !== null && (value as { [SAFE]?: unknown })[SAFE] === true;
}

/** Trusted markup (constants written in src/serve only): never data from a log or a request. */
export function raw(markup: string): SafeHtml {
  return safe(markup);
}

export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (isSafeHtml(value)) return value.value;
  if (Array.isArray(value)) return (value as readonly HtmlValue[]).map(render).join('');
  return escapeHtml(String(value));
}

/** The tagged template: literal parts as written, every interpolation escaped (unless SafeHtml). */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i] as HtmlValue) + (strings[i + 1] ?? '');
  return safe(out);
}

/** A path with its query, each name and value encoded with encodeURIComponent. */
export function url(path: string, query: Readonly<Record<string, string | number | readonly string[] | undefined | null>> | URLSearchParams = {}): string {
  const parts: string[] = [];
  const entries: [string, string][] = [];
  if (query instanceof URLSearchParams) for (const [key, value] of query) entries.push([key, value]);
  else {
    for (const [key, value] of Object.entries(query)) {
      if (value === undefined || value === null || value === '') continue;
      if (Array.isArray(value)) for (const item of value as readonly string[]) entries.push([key, item]);
      else entries.push([key, String(value)]);
    }
  }
  for (const [key, value] of entries) parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(value)}`);
  return parts.length === 0 ? path : `${path}?${parts.join('&')}`;
}

/** A path segment: encodeURIComponent, so `/` and `?` in an id stay inside the segment. */
export function segment(value: string): string {
  return encodeURIComponent(value);
}

/** Pretty JSON for a `<pre>`: escaped like any text. */
export function prettyJson(value: unknown): SafeHtml {
  return html`${JSON.stringify(value, null, 2) ?? 'null'}`;
}
