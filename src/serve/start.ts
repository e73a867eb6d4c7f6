/**
 * Starting `serve`: load the rules (as scan would), build the app over an open store, create the
 * first admin token when the store has none (its login URL printed once on stderr, as Jupyter
 * does), listen (127.0.0.1 by default), and warn loudly about a non-loopback address without TLS
 * or a reverse proxy in front. With `metrics`, Prometheus metrics (prom-client: the request
 * duration histogram and the default process metrics) on a port of their own, without auth,
 * loopback by default.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { DestinationStream } from 'pino';
import { fastify, type FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { loadRuleSet, type RuleSet, type RuleSetRequest } from '../pack/rule-set.ts';
import type { AlertStore } from '../store/alert-store.ts';
import { displayStoreSpec, isPostgresSpec } from '../store/index.ts';
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
  /** Serve `GET /metrics` (and `/healthz`) on this address, without auth: `--metrics-port`, `--metrics-host`. */
  metrics?: { host: string; port: number };
}

export interface RunningServe {
  app: FastifyInstance;
  context: ServeContext;
  /** http://host:port */
  origin: string;
  /** The first start's login URL (with the new admin token), when one was created. */
  loginUrl?: string;
  /** http://host:port of the metrics endpoint, when asked for. */
  metricsOrigin?: string;
  close(): Promise<void>;
}

/** The metrics endpoint: its own small fastify instance, so that the app's auth, CSP and routes stay as they are. */
async function startMetricsEndpoint(registry: Registry, host: string, port: number): Promise<FastifyInstance> {
  const server = fastify({ logger: false });
  server.get('/metrics', async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  server.get('/healthz', async () => ({ status: 'ok' }));
  await server.listen({ host, port });
  return server;
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
    // Beside a store file; for a PostgreSQL store (no folder of its own) in the working directory.
    filtersDir: resolve(options.filtersDir ?? (isPostgresSpec(options.storeFile) ? 'filters' : join(dirname(resolve(options.storeFile)), 'filters'))),
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
  let registry: Registry | undefined;
  if (options.metrics !== undefined) {
    registry = new Registry();
    collectDefaultMetrics({ register: registry });
  }
  const app = buildServeApp(context, { log: { level: options.logLevel ?? 'info', stream: options.logStream ?? process.stderr }, behindProxy: options.behindProxy, ...(options.tls === undefined ? {} : { tls: options.tls }), ...(registry === undefined ? {} : { metrics: registry }) });
  await app.listen({ host: options.host, port: options.port });
  let metricsServer: FastifyInstance | undefined;
  let metricsOrigin: string | undefined;
  if (registry !== undefined && options.metrics !== undefined) {
    try {
      metricsServer = await startMetricsEndpoint(registry, options.metrics.host, options.metrics.port);
    } catch (error) {
      await app.close();
      throw error;
    }
    const bound = metricsServer.server.address();
    metricsOrigin = `http://${urlHost(options.metrics.host)}:${typeof bound === 'object' && bound !== null ? bound.port : options.metrics.port}`;
    options.write(`metrics: ${metricsOrigin}/metrics (no auth${isLoopback(options.metrics.host) ? '' : `; WARNING: ${options.metrics.host} is not a loopback address`})`);
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const scheme = options.tls === undefined ? 'http' : 'https';
  const origin = `${scheme}://${urlHost(options.host)}:${port}`;
  options.write(`trailhound serve: ${origin}/ (store ${displayStoreSpec(options.storeFile)}; ${rules} rules; suppressions go to ${filtersDir})`);
  let loginUrl: string | undefined;
  if (token !== undefined) {
    loginUrl = `${origin}/login?token=${token}`;
    options.write('The store had no token: an admin token named "admin" was created. Open this URL to log in (shown only now):');
    options.write(`    ${loginUrl}`);
    options.write('More tokens: trailhound tokens create --role reader|triager|admin --name NAME --store FILE.db');
  } else {
    options.write(`Log in at ${origin}/login with a token (trailhound tokens create --role triager --name NAME --store ${displayStoreSpec(options.storeFile)}).`);
  }
  return {
    app,
    context,
    origin,
    ...(loginUrl === undefined ? {} : { loginUrl }),
    ...(metricsOrigin === undefined ? {} : { metricsOrigin }),
    close: async () => {
      await metricsServer?.close();
      await app.close();
    },
  };
}
