/** `/api/v1/coverage` (ATT&CK techniques of the loaded rules, and those that alerted in a period) and `/api/v1/rules/outcomes` (false-positive share per rule). */
import type { FastifyInstance } from 'fastify';
import type { ServeContext } from '../context.ts';
import { coverageOf, ruleOutcomesOf } from '../coverage.ts';
import { timeOfQuery } from '../filters-from-query.ts';
import { ERROR_SCHEMA, PERIOD_QUERY } from './schemas.ts';

export function periodOf(query: { since?: string; until?: string }, now: Date): { since?: string; until?: string } {
  const period: { since?: string; until?: string } = {};
  if (query.since !== undefined && query.since !== '') period.since = timeOfQuery(query.since, 'since', now);
  if (query.until !== undefined && query.until !== '') period.until = timeOfQuery(query.until, 'until', now);
  return period;
}

export function registerCoverageRoutes(app: FastifyInstance, context: ServeContext): void {
  app.get('/api/v1/coverage', {
    schema: { querystring: PERIOD_QUERY },
    config: {
      access: 'reader',
      docs: {
        summary: 'ATT&CK techniques covered by the loaded rules, each with its alerts in since/until (every status)',
        tags: ['rules'],
        responses: { 200: { description: 'Coverage', schema: { type: 'object' } }, 400: { description: 'Invalid time', schema: ERROR_SCHEMA }, 401: { description: 'No valid token', schema: ERROR_SCHEMA } },
      },
    },
    handler: async (request) => coverageOf(context.store, context.catalog, periodOf(request.query as { since?: string; until?: string }, context.now())),
  });

  app.get('/api/v1/rules/outcomes', {
    config: {
      access: 'reader',
      docs: {
        summary: 'Per rule: closed alerts, false positives among them, and their share',
        tags: ['rules'],
        responses: { 200: { description: 'Outcomes', schema: { type: 'object', properties: { rules: { type: 'array', items: { type: 'object' } } } } }, 401: { description: 'No valid token', schema: ERROR_SCHEMA } },
      },
    },
    handler: async () => ({ rules: await ruleOutcomesOf(context.store, context.catalog) }),
  });
}
