/** Shared by the serve tests: a real SQLite store in a temp folder, filled with the samples' alerts and an XSS fixture, and the app over it. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Alert } from '../../src/core/alert.ts';
import { SqliteAlertStore } from '../../src/store/sqlite-alert-store.ts';
import type { AlertStore } from '../../src/store/alert-store.ts';
import { DEFAULT_RULES_DIR } from '../../src/pack/rule-set.ts';
import { buildServeApp } from '../../src/serve/app.ts';
import type { ServeContext } from '../../src/serve/context.ts';
import { createServeContext } from '../../src/serve/start.ts';

export const XSS_IMG = '<img src=x onerror=alert(1)>';
export const XSS_SCRIPT = '</script><script>alert(1)</script>';
export const XSS_ID = 'xss-fixture-0001';

let sampleAlerts: Alert[] | undefined;

/** The alerts of `scan samples/` (run once per process through the CLI). */
export function samplesAlerts(): Alert[] {
  sampleAlerts ??= execFileSync(process.execPath, ['bin/trailhound.js', 'scan', 'samples/', '--format', 'jsonl', '--quiet'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
    .trim()
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Alert);
  return sampleAlerts;
}

/** An alert whose rule title, actor and event userAgent hold markup and a script breakout. */
export function xssAlert(): Alert {
  return {
    id: XSS_ID,
    time: '2026-11-05T10:00:00.000Z',
    rule: { id: 'b0000000-0000-4000-8000-00000000x551', name: `xss-rule-${XSS_SCRIPT}`, title: `Hostile ${XSS_IMG} title ${XSS_SCRIPT}`, level: 'high' },
    attack: { techniques: ['T1098.001', `T1" onmouseover="alert(1)`], tactics: ['persistence'] },
    source: 'cloudtrail',
    account: '111122223333',
    region: 'us-east-1',
    actor: `arn:aws:iam::111122223333:user/${XSS_SCRIPT}${XSS_IMG}`,
    source_ip: '203.0.113.99',
    event_ids: [`ev-${XSS_IMG}`],
    count: 1,
    events: [
      {
        eventTime: '2026-11-05T10:00:00Z',
        eventSource: 'iam.amazonaws.com',
        eventName: 'CreateAccessKey',
        userAgent: `${XSS_IMG} ${XSS_SCRIPT}`,
        userIdentity: { type: 'IAMUser', arn: `arn:aws:iam::111122223333:user/${XSS_SCRIPT}${XSS_IMG}` },
        sourceIPAddress: '203.0.113.99',
        recipientAccountId: '111122223333',
        errorMessage: `"><svg onload=alert(1)>`,
      },
    ],
  };
}

export interface TestServe {
  app: FastifyInstance;
  store: AlertStore;
  context: ServeContext;
  dir: string;
  tokens: { admin: string; triager: string; reader: string };
  close(): Promise<void>;
}

export async function testServe(options: { alerts?: Alert[]; log?: { stream: NodeJS.WritableStream }; beforeReady?: (app: FastifyInstance) => void } = {}): Promise<TestServe> {
  const dir = mkdtempSync(join(tmpdir(), 'trailhound-serve-'));
  const file = join(dir, 'alerts.db');
  const store = SqliteAlertStore.open(file);
  await store.putAlerts(options.alerts ?? [...samplesAlerts(), xssAlert()], 'scan');
  const tokens = {
    admin: (await store.createToken('admin-alice', 'admin')).token,
    triager: (await store.createToken('triager-tom', 'triager')).token,
    reader: (await store.createToken('reader-rita', 'reader')).token,
  };
  const { context } = await createServeContext({ store, storeFile: file, ruleRequest: { paths: [DEFAULT_RULES_DIR] }, secureCookies: false });
  const app = buildServeApp(context, options.log === undefined ? {} : { log: { stream: options.log.stream as never } });
  options.beforeReady?.(app);
  await app.ready();
  return {
    app,
    store,
    context,
    dir,
    tokens,
    close: async () => {
      await app.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

/** Logs in through /login?token= and returns the cookie header and the session's CSRF token (read from a page). */
export async function login(app: FastifyInstance, token: string): Promise<{ cookie: string; csrf: string }> {
  const response = await app.inject({ method: 'GET', url: `/login?token=${encodeURIComponent(token)}` });
  const setCookie = response.headers['set-cookie'];
  const first = (Array.isArray(setCookie) ? setCookie[0] : setCookie) ?? '';
  const cookie = first.split(';')[0] as string;
  const page = await app.inject({ method: 'GET', url: '/', headers: { cookie } });
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
  return { cookie, csrf };
}

export function form(fields: Record<string, string | string[]>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) for (const item of Array.isArray(value) ? value : [value]) search.append(name, item);
  return search.toString();
}
