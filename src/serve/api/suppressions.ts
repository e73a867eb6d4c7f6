/**
 * `/api/v1/suppressions`: the list (with the matches each kept out), and "suppress from this
 * alert": a Sigma filter document written into the filters folder (suppression.ts), with a dry
 * run that shows the document and the alerts `close_matching` would close.
 */
import type { FastifyInstance } from 'fastify';
import type { ServeContext } from '../context.ts';
import { suppressFromAlert, type SuppressKey } from '../suppression.ts';
import { actorOf, alertOr404 } from './alerts.ts';
import { ERROR_SCHEMA, SUPPRESSION_BODY, SUPPRESSION_SCHEMA } from './schemas.ts';

export function registerSuppressionRoutes(app: FastifyInstance, context: ServeContext): void {
  app.get('/api/v1/suppressions', {
    config: {
      access: 'reader',
      docs: {
        summary: 'Suppressions written from alerts, with the matches each kept out since (counted by scan --store and watch)',
        tags: ['suppressions'],
        responses: { 200: { description: 'The suppressions', schema: { type: 'object', properties: { suppressions: { type: 'array', items: SUPPRESSION_SCHEMA } } } }, 401: { description: 'No valid token', schema: ERROR_SCHEMA } },
      },
    },
    handler: async () => ({ suppressions: await context.store.listSuppressions() }),
  });

  app.post('/api/v1/suppressions', {
    schema: { body: SUPPRESSION_BODY },
    config: {
      access: 'triager',
      docs: {
        summary: "Suppress from an alert: write a Sigma filter (rule + principal/account/IP...), reason and expiry required; optionally close the rule's matching open alerts",
        tags: ['suppressions'],
        responses: {
          200: { description: 'dry_run: the document, its file and the matching open alerts', schema: { type: 'object' } },
          201: { description: 'Written: the suppression, the document and how many alerts were closed', schema: { type: 'object' } },
          400: { description: 'Invalid (no reason, expiry in the past, nothing to key on)', schema: ERROR_SCHEMA },
          401: { description: 'No valid token', schema: ERROR_SCHEMA },
          403: { description: 'Role too low', schema: ERROR_SCHEMA },
          404: { description: 'No such alert', schema: ERROR_SCHEMA },
        },
      },
    },
    handler: async (request, reply) => {
      const body = request.body as { alert_id: string; keys?: SuppressKey[]; reason: string; expires: string; close_matching?: boolean; dry_run?: boolean };
      const alert = await alertOr404(context.store, body.alert_id);
      const dryRun = body.dry_run === true;
      const result = await suppressFromAlert(context, alert, { keys: body.keys ?? ['principal'], reason: body.reason, expires: body.expires, closeMatching: body.close_matching === true, owner: actorOf(request) }, dryRun);
      const summary = { id: result.plan.id, rule: result.plan.rule, file: result.plan.file, document: result.plan.document, selection: result.plan.selection, options: result.plan.options, matching_open: result.plan.matching.length };
      if (dryRun) return { dry_run: true, ...summary };
      reply.code(201);
      return { dry_run: false, ...summary, suppression: { ...result.suppression, suppressed: 0 }, closed: result.closed };
    },
  });
}
