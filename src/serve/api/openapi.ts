/**
 * `/api/openapi.json`: an OpenAPI 3.1 document of every route, built from the routes as they
 * are registered (their JSON schemas and `config.docs`), so it cannot drift from them; a test
 * compares the registered routes with the document's paths.
 */
import type { FastifyInstance, RouteOptions } from 'fastify';
import type { ServeContext } from '../context.ts';

export interface RouteDocs {
  summary: string;
  tags?: string[];
  /** Request body media type (default application/json). */
  bodyType?: string;
  responses?: Record<string, { description: string; schema?: Record<string, unknown>; contentType?: string }>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What the OpenAPI document says about the route. */
    docs?: RouteDocs;
  }
}

interface RegisteredRoute {
  method: string;
  url: string;
  schema: { querystring?: Record<string, unknown>; params?: Record<string, unknown>; body?: Record<string, unknown> } | undefined;
  config: { access?: string; page?: boolean; docs?: RouteDocs } | undefined;
}

/** Collects every route registered after it (install it before any route). */
export class RouteRegistry {
  readonly routes: RegisteredRoute[] = [];

  constructor(app: FastifyInstance) {
    app.addHook('onRoute', (route: RouteOptions) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      for (const method of methods) {
        if (method === 'HEAD' || route.url === '*' || route.url === '/*') continue;
        this.routes.push({ method, url: route.url, schema: route.schema as RegisteredRoute['schema'], config: route.config as RegisteredRoute['config'] });
      }
    });
  }
}

/** `/alerts/:id` -> `/alerts/{id}`. */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function parameters(route: RegisteredRoute): unknown[] {
  const out: unknown[] = [];
  const params = route.schema?.params as { properties?: Record<string, unknown> } | undefined;
  for (const [name, schema] of Object.entries(params?.properties ?? {})) out.push({ name, in: 'path', required: true, schema });
  for (const name of route.url.match(/:([A-Za-z0-9_]+)/g) ?? []) {
    if (!out.some((parameter) => (parameter as { name: string }).name === name.slice(1))) out.push({ name: name.slice(1), in: 'path', required: true, schema: { type: 'string' } });
  }
  const query = route.schema?.querystring as { properties?: Record<string, Record<string, unknown>>; required?: string[] } | undefined;
  for (const [name, schema] of Object.entries(query?.properties ?? {})) {
    const { description, ...rest } = schema;
    out.push({ name, in: 'query', required: query?.required?.includes(name) ?? false, ...(description === undefined ? {} : { description }), schema: rest, ...(rest.type === 'array' ? { style: 'form', explode: true } : {}) });
  }
  return out;
}

export function openApiDocument(registry: RouteRegistry, version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of registry.routes) {
    const docs = route.config?.docs;
    const access = route.config?.access ?? 'reader';
    const page = route.config?.page === true;
    const responses: Record<string, unknown> = {};
    for (const [status, response] of Object.entries(docs?.responses ?? { 200: { description: page ? 'An HTML page' : 'OK', contentType: page ? 'text/html' : 'application/json' } })) {
      const contentType = response.contentType ?? (page ? 'text/html' : 'application/json');
      responses[status] = { description: response.description, ...(response.schema === undefined && contentType === 'application/json' && status === '204' ? {} : { content: { [contentType]: response.schema === undefined ? {} : { schema: response.schema } } }) };
      if (status === '204') responses[status] = { description: response.description };
    }
    const operation: Record<string, unknown> = {
      summary: docs?.summary ?? `${route.method} ${route.url}`,
      tags: docs?.tags ?? [page ? 'ui' : 'api'],
      operationId: `${route.method.toLowerCase()}${openApiPath(route.url).replace(/[^A-Za-z0-9]+(.)?/g, (_match, next: string | undefined) => (next ?? '').toUpperCase())}`,
      'x-trailhound-role': access,
      ...(access === 'public' ? { security: [] } : {}),
      parameters: parameters(route),
      responses,
    };
    if (route.schema?.body !== undefined) {
      operation.requestBody = { required: true, content: { [docs?.bodyType ?? (page ? 'application/x-www-form-urlencoded' : 'application/json')]: { schema: route.schema.body } } };
    }
    const path = openApiPath(route.url);
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: operation };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'trailhound serve',
      version,
      description:
        'The triage API over the alert store. Every route but /healthz, /login and the static assets needs a token: Authorization: Bearer th_... (trailhound tokens create), or the session cookie of the UI, whose state-changing requests carry X-CSRF-Token. Errors are {"error": {"code": "TH_*", "message"}}.',
    },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'A th_... token; roles reader < triager < admin (x-trailhound-role on each operation).' },
        session: { type: 'apiKey', in: 'cookie', name: 'trailhound_session', description: 'The UI session (from /login); state changes need X-CSRF-Token.' },
      },
    },
    security: [{ bearer: [] }, { session: [] }],
    paths,
  };
}

export function registerOpenApiRoute(app: FastifyInstance, context: ServeContext, registry: RouteRegistry): void {
  let document: Record<string, unknown> | undefined;
  app.get('/api/openapi.json', {
    config: { access: 'reader', docs: { summary: 'This OpenAPI 3.1 document', tags: ['api'], responses: { 200: { description: 'The document', schema: { type: 'object' } } } } },
    handler: async () => {
      document ??= openApiDocument(registry, context.version);
      return document;
    },
  });
}
