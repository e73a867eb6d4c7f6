/**
 * The page shell: head (our stylesheet, htmx and the keyboard helper, all `'self'`, no inline
 * script or style), the top navigation, and small shared pieces (level and status badges, times,
 * links to an actor). htmx is configured through its meta tag: no indicator `<style>`, no eval,
 * no script tags from swapped content, no history cache in localStorage (pages hold log data).
 */
import type { Principal } from '../auth.ts';
import { html, raw, url, type HtmlValue, type SafeHtml } from '../html.ts';
import { staticAssets } from '../static-assets.ts';

const HTMX_CONFIG = JSON.stringify({
  includeIndicatorStyles: false,
  allowEval: false,
  allowScriptTags: false,
  historyCacheSize: 0,
  refreshOnHistoryMiss: true,
  selfRequestsOnly: true,
  // htmx settles `style` too by default, which sets style attributes: CSP style-src 'self' refuses them.
  attributesToSettle: ['class', 'width', 'height'],
});

export interface PageOptions {
  title: string;
  principal?: Principal | undefined;
  /** Which navigation entry is current. */
  nav?: 'alerts' | 'coverage' | 'suppressions' | 'actor';
  flash?: string | undefined;
  error?: string | undefined;
  body: HtmlValue;
}

/** The CSRF form field (cookie sessions only; bearer requests need none). */
export function csrfField(principal: Principal | undefined): SafeHtml {
  const token = principal?.session?.csrf;
  return token === undefined ? raw('') : html`<input type="hidden" name="_csrf" value="${token}">`;
}

export function layout(options: PageOptions): string {
  const assets = staticAssets();
  const principal = options.principal;
  const csrf = principal?.session?.csrf;
  const headers = csrf === undefined ? undefined : JSON.stringify({ 'X-CSRF-Token': csrf });
  const navLink = (key: PageOptions['nav'], href: string, label: string): SafeHtml => html`<a href="${href}"${options.nav === key ? raw(' aria-current="page"') : ''}>${label}</a>`;
  return `<!doctype html>${html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="htmx-config" content="${HTMX_CONFIG}">
<title>${options.title} · trailhound</title>
<link rel="stylesheet" href="${assets.css}">
<script src="${assets.htmx}" defer></script>
<script src="${assets.js}" defer></script>
</head>
<body hx-boost="true"${headers === undefined ? '' : html` hx-headers="${headers}"`}>
<a class="sr-only" href="#main">Skip to content</a>
<header class="top">
<span class="brand">trailhound</span>
<nav>${navLink('alerts', '/', 'Alerts')} · ${navLink('coverage', '/coverage', 'ATT&CK coverage')} · ${navLink('suppressions', '/suppressions', 'Suppressions')}</nav>
${
  principal === undefined
    ? ''
    : html`<span class="who">${principal.name} (${principal.role})${
        principal.via === 'session' ? html`<form method="post" action="/logout" hx-boost="false">${csrfField(principal)}<button type="submit">Log out</button></form>` : ''
      }</span>`
}
</header>
<main id="main">
${options.flash === undefined ? '' : html`<p class="flash" role="status">${options.flash}</p>`}
${options.error === undefined ? '' : html`<p class="error" role="alert">${options.error}</p>`}
${options.body}
</main>
</body>
</html>`.value}\n`;
}

export function levelBadge(level: string): SafeHtml {
  return html`<span class="level level-${/^[a-z]+$/.test(level) ? level : 'unknown'}">${level}</span>`;
}

export function statusBadge(status: string, reason?: string | null): SafeHtml {
  return html`<span class="status status-${/^[a-z]+$/.test(status) ? status : 'unknown'}">${status}${reason === null || reason === undefined ? '' : html` · ${reason.replace(/_/g, ' ')}`}</span>`;
}

export function timeText(iso: string | null | undefined): SafeHtml {
  if (iso === null || iso === undefined || iso === '') return html`<span class="muted">—</span>`;
  const shown = iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  return html`<time datetime="${iso}">${shown}</time>`;
}

/** A principal, linked to its actor view. */
export function actorLink(actor: string | null): SafeHtml {
  if (actor === null) return html`<span class="muted">—</span>`;
  return html`<a href="${url('/actor', { actor })}">${actor}</a>`;
}

/** ATT&CK technique or tactic ids, linked to attack.mitre.org (ids are checked before they go into a URL). */
export function techniqueLink(id: string): SafeHtml {
  if (!/^T\d{4}(\.\d{3})?$/.test(id)) return html`${id}`;
  return html`<a href="https://attack.mitre.org/techniques/${id.replace('.', '/')}/" rel="noopener noreferrer" target="_blank">${id}</a>`;
}

export function tacticLink(slug: string): SafeHtml {
  return html`<a href="${url('/', { tactic: slug, status: 'all' })}">${slug}</a>`;
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? one : many}`;
}
