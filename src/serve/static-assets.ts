/**
 * The static assets, served from the package (no CDN): our stylesheet and keyboard helper, and
 * htmx from node_modules/htmx.org at a versioned path. Paths carry the version or a content hash,
 * so they are cached for a year (`immutable`); they need no token.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';

export interface StaticAssets {
  css: string;
  js: string;
  htmx: string;
  htmxVersion: string;
}

interface Asset {
  path: string;
  body: Buffer;
  type: string;
}

function hashed(name: string, body: Buffer, extension: string): string {
  return `/static/${name}-${createHash('sha256').update(body).digest('hex').slice(0, 12)}.${extension}`;
}

function load(): { assets: Asset[]; paths: StaticAssets } {
  const here = new URL('./static/', import.meta.url).pathname;
  const css = readFileSync(join(here, 'app.css'));
  const js = readFileSync(join(here, 'app.js'));
  const require = createRequire(import.meta.url);
  const htmxPackage = require.resolve('htmx.org/package.json');
  const htmxVersion = (JSON.parse(readFileSync(htmxPackage, 'utf8')) as { version: string }).version;
  const htmx = readFileSync(join(dirname(htmxPackage), 'dist', 'htmx.min.js'));
  const paths: StaticAssets = { css: hashed('app', css, 'css'), js: hashed('app', js, 'js'), htmx: `/static/htmx-${htmxVersion}.min.js`, htmxVersion };
  return {
    paths,
    assets: [
      { path: paths.css, body: css, type: 'text/css; charset=utf-8' },
      { path: paths.js, body: js, type: 'text/javascript; charset=utf-8' },
      { path: paths.htmx, body: htmx, type: 'text/javascript; charset=utf-8' },
    ],
  };
}

let cached: ReturnType<typeof load> | undefined;

export function staticAssets(): StaticAssets {
  cached ??= load();
  return cached.paths;
}

export function registerStaticRoutes(app: FastifyInstance): void {
  cached ??= load();
  for (const asset of cached.assets) {
    app.get(asset.path, {
      config: { access: 'public', docs: { summary: `Static asset ${asset.path}`, tags: ['static'], responses: { 200: { description: 'The asset', contentType: asset.type.split(';')[0] as string } } } },
      handler: async (_request, reply) => reply.header('content-type', asset.type).header('cache-control', 'public, max-age=31536000, immutable').send(asset.body),
    });
  }
}
