/**
 * The fastify instance of `trailhound serve`: security headers on every response (a strict CSP
 * with no inline script or style, nosniff, no referrer, no framing, no caching of pages and API),
 * authentication and roles (auth.ts), input validation (JSON schemas; unknown properties are
 * refused, not dropped), errors as `{"error": {"code": "TH_*", "message"}}` (or an HTML page for
 * the UI), a request log that never holds tokens or cookies, and every route.
 */
import { fastify, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import type { DestinationStream } from 'pino';
import { Histogram, type Registry } from 'prom-client';
import { installAuth } from './auth.ts';
import type { ServeContext } from './context.ts';
import { errorResponse, notFound } from './http-error.ts';
import { html } from './html.ts';
import { registerAlertRoutes } from './api/alerts.ts';
import { registerCoverageRoutes } from './api/coverage.ts';
import { registerOpenApiRoute, RouteRegistry } from './api/openapi.ts';
import { registerSuppressionRoutes } from './api/suppressions.ts';
import { registerTokenRoutes } from './api/tokens.ts';
import { registerActorPage } from './pages/actor.ts';
import { registerBulkPage } from './pages/bulk.ts';
import { registerCoveragePage } from './pages/coverage.ts';
import { registerDetailPage } from './pages/detail.ts';
import { layout } from './pages/layout.ts';
import { registerListPage } from './pages/list.ts';
import { loginPage, registerLoginPages } from './pages/login.ts';
import { registerSuppressPage } from './pages/suppress.ts';
import { registerSuppressionsPage } from './pages/suppressions.ts';
import { registerStaticRoutes } from './static-assets.ts';

export const CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
  'cache-control': 'no-store',
};

export interface ServeAppOptions {
  /** The request log (pino): off in tests unless a stream is given. */
  log?: { stream?: DestinationStream; level?: string } | false;
  /** Behind a reverse proxy: trust X-Forwarded-* for the client address. */
  behindProxy?: boolean;
  /** Serve HTTPS with this key and certificate (PEM). */
  tls?: { key: Buffer; cert: Buffer };
  /** Record `http_request_duration_seconds` on this registry (start.ts serves it on --metrics-port). */
  metrics?: Registry;
}

/**
 * `http_request_duration_seconds{method, route, status_code}`: every response, by the route's
 * pattern (`/api/v1/alerts/:id`, never the URL, so the label set stays bounded; `unmatched` for
 * a 404 of no route), prom-client's default buckets.
 */
function installRequestMetrics(app: FastifyInstance, registry: Registry): void {
  const duration = new Histogram({ name: 'http_request_duration_seconds', help: 'HTTP requests of trailhound serve, by method, route pattern and status code, seconds.', labelNames: ['method', 'route', 'status_code'], registers: [registry] });
  app.addHook('onResponse', async (request, reply) => {
    duration.observe({ method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
}

/** The request's URL for the log: a token in a query (/login?token=) is replaced. */
export function loggedUrl(url: string): string {
  return url.replace(/([?&]token=)[^&#]*/gi, '$1[redacted]');
}

function isPage(request: FastifyRequest): boolean {
  const config = request.routeOptions.config;
  if (config?.page === true) return true;
  if (config?.page === false || request.url.startsWith('/api/') || request.url === '/healthz') return false;
  // Unknown paths: a page for a browser, JSON for a script.
  return (request.headers.accept ?? '').includes('text/html');
}

function errorPage(status: number, code: string, message: string, request: FastifyRequest): string {
  return layout({ title: `Error ${status}`, principal: request.principal, error: `${code}: ${message}`, body: html`<h1>Error ${status}</h1><p><a href="/">Back to the alerts</a></p>` });
}

function sendError(request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply {
  const { status, body, internal } = errorResponse(error);
  if (internal) request.log.error({ err: error }, 'request failed');
  reply.code(status);
  if (isPage(request)) {
    reply.type('text/html; charset=utf-8');
    return reply.send(status === 401 ? loginPage(body.error.message) : errorPage(status, body.error.code, body.error.message, request));
  }
  return reply.type('application/json; charset=utf-8').send(body);
}

/**
 * The app, not yet listening: routes are registered in a plugin, loaded at `ready()` (so a test
 * can add an onRoute hook first).
 */
export function buildServeApp(context: ServeContext, options: ServeAppOptions = {}): FastifyInstance {
  const log = options.log === undefined || options.log === false ? false : options.log;
  const app = fastify({
    ...(options.tls === undefined ? {} : { https: options.tls }),
    logger:
      log === false
        ? false
        : {
            level: log.level ?? 'info',
            ...(log.stream === undefined ? {} : { stream: log.stream }),
            redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-csrf-token"]', 'res.headers["set-cookie"]', 'req.query.token', 'req.body.token', 'req.body._csrf'], censor: '[redacted]' },
            serializers: {
              req: (request: { method: string; url: string; hostname?: string; ip?: string }) => ({ method: request.method, url: loggedUrl(request.url), host: request.hostname, remoteAddress: request.ip }),
            },
          },
    bodyLimit: 512 * 1024,
    trustProxy: options.behindProxy === true,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
    routerOptions: { maxParamLength: 300 },
  } as FastifyServerOptions) as unknown as FastifyInstance;
  app.register(fastifyCookie);
  app.register(fastifyFormbody, { bodyLimit: 512 * 1024 });

  app.addHook('onRequest', async (_request, reply) => {
    reply.headers(SECURITY_HEADERS);
  });
  if (options.metrics !== undefined) installRequestMetrics(app, options.metrics);
  installAuth(app, context);

  app.setErrorHandler((error, request, reply) => sendError(request, reply, error));
  app.setNotFoundHandler((request, reply) => sendError(request, reply, notFound(`no route ${request.method} ${request.url.split('?')[0]?.slice(0, 200) ?? ''}`)));

  app.register(async (scope) => {
    const registry = new RouteRegistry(scope);
    scope.get('/healthz', {
      config: { access: 'public', docs: { summary: 'Liveness: no token needed', tags: ['api'], responses: { 200: { description: 'ok', schema: { type: 'object', properties: { status: { type: 'string' } } } } } } },
      handler: async () => ({ status: 'ok' }),
    });
    registerStaticRoutes(scope);
    registerLoginPages(scope, context);
    registerListPage(scope, context);
    registerDetailPage(scope, context);
    registerBulkPage(scope, context);
    registerSuppressPage(scope, context);
    registerSuppressionsPage(scope, context);
    registerActorPage(scope, context);
    registerCoveragePage(scope, context);
    registerAlertRoutes(scope, context);
    registerSuppressionRoutes(scope, context);
    registerCoverageRoutes(scope, context);
    registerTokenRoutes(scope, context);
    registerOpenApiRoute(scope, context, registry);
  });
  return app;
}
