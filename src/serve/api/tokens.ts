/** `/api/v1/tokens` (admin): list, create (the secret is returned once), revoke (its sessions end at once). */
import type { FastifyInstance } from 'fastify';
import type { TokenRole } from '../../store/alert-store.ts';
import type { ServeContext } from '../context.ts';
import { notFound } from '../http-error.ts';
import { ERROR_SCHEMA, NAME_PARAMS, TOKEN_BODY } from './schemas.ts';

const adminErrors = { 401: { description: 'No valid token', schema: ERROR_SCHEMA }, 403: { description: 'Not an admin token', schema: ERROR_SCHEMA } };

export function registerTokenRoutes(app: FastifyInstance, context: ServeContext): void {
  app.get('/api/v1/tokens', {
    config: { access: 'admin', docs: { summary: 'Tokens: name, role, created, last used (never the secrets)', tags: ['tokens'], responses: { 200: { description: 'The tokens', schema: { type: 'object' } }, ...adminErrors } } },
    handler: async () => ({ tokens: await context.store.listTokens() }),
  });
  app.post('/api/v1/tokens', {
    schema: { body: TOKEN_BODY },
    config: { access: 'admin', docs: { summary: 'Create a token; its secret is in this response only', tags: ['tokens'], responses: { 201: { description: 'The token', schema: { type: 'object' } }, 400: { description: 'Invalid name or role, or name taken', schema: ERROR_SCHEMA }, ...adminErrors } } },
    handler: async (request, reply) => {
      const body = request.body as { name: string; role: TokenRole };
      const { token } = await context.store.createToken(body.name, body.role);
      reply.code(201);
      return { name: body.name, role: body.role, token };
    },
  });
  app.delete('/api/v1/tokens/:name', {
    schema: { params: NAME_PARAMS },
    config: { access: 'admin', docs: { summary: 'Revoke a token (its sessions end at once)', tags: ['tokens'], responses: { 204: { description: 'Revoked' }, 404: { description: 'No such token', schema: ERROR_SCHEMA }, ...adminErrors } } },
    handler: async (request, reply) => {
      const { name } = request.params as { name: string };
      if (!(await context.store.revokeToken(name))) throw notFound(`no token is named ${JSON.stringify(name)}`);
      context.sessions.deleteByName(name);
      return reply.code(204).send();
    },
  });
}
