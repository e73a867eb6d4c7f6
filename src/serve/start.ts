/**
 * Starting `serve`: load the rules (as scan would), build the app over an open store, create the
 * first admin token when the store has none (its login URL printed once on stderr, as Jupyter
 * does), listen (127.0.0.1 by default), and warn loudly about a non-loopback address without TLS
 * or a reverse proxy in front.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { DestinationStream } from 'pino';
import type { FastifyInstance } from 'fastify';
import { loadRuleSet, type RuleSet, type RuleSetRequest } from '../pack/rule-set.ts';
import type { AlertStore } from '../store/alert-store.ts';
import { buildServeApp } from './app.ts';
import { SessionStore } from './auth.ts';
import type { ServeContext } from './context.ts';
import { ruleCatalog } from './rule-catalog.ts';

export interface ServeOptions {
  store: AlertStore;
  /** The store's path (the default filters folder is `<store dir>/filters`). */
  storeFile: string;
  host: string;
  port: number;
  ruleRequest: RuleSetRequest;
  filtersDir?: string;
  behindProxy: boolean;
  tls?: { key: Buffer; cert: Buffer };
  /** Where the login URL, warnings and rule errors go (stderr). */
  write: (line: string) => void;
  /** The request log (JSON lines); default stderr. */
  logStream?: DestinationStream;
  logLevel?: string;
  now?: () => Date;
}

export interface RunningServe {
  app: FastifyInstance;
  context: ServeContext;
  /** http://host:port */
  origin: string;
  /** The first start's login URL (with the new admin token), when one was created. */
  loginUrl?: string;
  close(): Promise<void>;
}

export function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** The context of the routes: the rules loaded as scan loads them, the filters folder (default `<store dir>/filters`). */
export async function createServeContext(options: Pick<ServeOptions, 'store' | 'storeFile' | 'ruleRequest' | 'filtersDir' | 'now'> & { secureCookies: boolean }): Promise<{ context: ServeContext; errors: RuleSet['errors']; rules: number }> {
  const set = await loadRuleSet(options.ruleRequest);
  const context: ServeContext = {
    store: options.store,
    catalog: ruleCatalog(set),
    ruleRequest: options.ruleRequest,
    filtersDir: resolve(options.filtersDir ?? join(dirname(resolve(options.storeFile)), 'filters')),
    sessions: new SessionStore(),
    secureCookies: options.secureCookies,
    now: options.now ?? (() => new Date()),
    version: packageVersion(),
  };
  return { context, errors: set.errors, rules: set.rules.length + set.correlations.length };
}

export async function startServe(options: ServeOptions): Promise<RunningServe> {
  const { context, errors, rules } = await createServeContext({ ...options, secureCookies: options.tls !== undefined || options.behindProxy });
  for (const error of errors.slice(0, 20)) options.write(`warning: ${error.location}: ${error.code} ${error.message}`);
  if (errors.length > 20) options.write(`warning: ${errors.length - 20} more rule errors (trailhound rules lint)`);
  const filtersDir = context.filtersDir;
  if (!isLoopback(options.host) && options.tls === undefined && !options.behindProxy) {
    options.write('');
    options.write('!!! WARNING: trailhound serve listens on a non-loopback address without TLS. !!!');
    options.write(`!!! Tokens, session cookies and alert data cross the network in clear text from ${options.host}. !!!`);
    options.write('!!! Put it behind a TLS reverse proxy (--behind-proxy), give --tls-cert/--tls-key, or keep --host 127.0.0.1. !!!');
    options.write('');
  }
  let token: string | undefined;
  if ((await options.store.listTokens()).length === 0) {
    token = (await options.store.createToken('admin', 'admin')).token;
  }
  const app = buildServeApp(context, { log: { level: options.logLevel ?? 'info', stream: options.logStream ?? process.stderr }, behindProxy: options.behindProxy, ...(options.tls === undefined ? {} : { tls: options.tls }) });
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const scheme = options.tls === undefined ? 'http' : 'https';
  const origin = `${scheme}://${urlHost(options.host)}:${port}`;
  options.write(`trailhound serve: ${origin}/ (store ${options.storeFile}; ${rules} rules; suppressions go to ${filtersDir})`);
  let loginUrl: string | undefined;
  if (token !== undefined) {
    loginUrl = `${origin}/login?token=${token}`;
    options.write('The store had no token: an admin token named "admin" was created. Open this URL to log in (shown only now):');
    options.write(`    ${loginUrl}`);
    options.write('More tokens: trailhound tokens create --role reader|triager|admin --name NAME --store FILE.db');
  } else {
    options.write(`Log in at ${origin}/login with a token (trailhound tokens create --role triager --name NAME --store ${options.storeFile}).`);
  }
  return {
    app,
    context,
    origin,
    ...(loginUrl === undefined ? {} : { loginUrl }),
    close: async () => {
      await app.close();
    },
  };
}
