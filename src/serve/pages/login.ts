/**
 * Logging in: `GET /login?token=th_...` (the URL serve prints, as Jupyter does) or the form
 * (`POST /login`, the token never in a URL) trade a token for the session cookie and redirect to
 * `/` without the token; `POST /logout` ends the session. The token itself is never stored in the
 * cookie, never logged (the request log's URL drops the query of /login).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { clearSessionCookie, setSessionCookie } from '../auth.ts';
import type { ServeContext } from '../context.ts';
import { html } from '../html.ts';
import { field, formBody, formSchema } from './forms.ts';
import { layout } from './layout.ts';

export function loginPage(message?: string): string {
  return layout({
    title: 'Log in',
    error: message,
    body: html`<h1>Log in</h1>
<div class="panel"><p>Open the login URL that <code>trailhound serve</code> printed on its first start, or paste a token (<code>trailhound tokens create --role triager --name you --store FILE.db</code>).</p>
<form method="post" action="/login" hx-boost="false"><div class="field"><label for="token">Token</label><input type="text" id="token" name="token" autocomplete="off" required></div><p><button type="submit">Log in</button></p></form></div>`,
  });
}

async function logIn(context: ServeContext, token: string, reply: FastifyReply): Promise<FastifyReply> {
  const found = token === '' ? undefined : await context.store.verifyToken(token);
  if (found === undefined) return reply.code(401).type('text/html; charset=utf-8').send(loginPage('That token is not valid: it may have been revoked, or belong to another store.'));
  const info = (await context.store.listTokens()).find((candidate) => candidate.name === found.name);
  const session = context.sessions.create(found.name, found.role, info?.created_at ?? '');
  setSessionCookie(reply, context, session);
  return reply.code(303).header('location', '/').send('');
}

export function registerLoginPages(app: FastifyInstance, context: ServeContext): void {
  app.get('/login', {
    schema: { querystring: { type: 'object', additionalProperties: false, properties: { token: { type: 'string', maxLength: 200 } } } },
    config: { access: 'public', page: true, docs: { summary: 'Log in: ?token= trades a token for the session cookie and redirects to / (or shows the login form)', tags: ['ui'] } },
    handler: async (request: FastifyRequest, reply) => {
      const token = (request.query as { token?: string }).token;
      if (token === undefined) return reply.type('text/html; charset=utf-8').send(loginPage());
      return logIn(context, token.trim(), reply);
    },
  });
  app.post('/login', {
    schema: { body: formSchema({ token: 200 }, ['token']) },
    config: { access: 'public', page: true, docs: { summary: 'Log in with a token typed into the form', tags: ['ui'] } },
    handler: async (request, reply) => logIn(context, field(formBody(request), 'token'), reply),
  });
  app.post('/logout', {
    schema: { body: formSchema({}) },
    config: { access: 'reader', page: true, docs: { summary: 'Log out (ends the session)', tags: ['ui'] } },
    handler: async (request, reply) => {
      const session = request.principal?.session;
      if (session !== undefined) context.sessions.delete(session.id);
      clearSessionCookie(reply, context);
      return reply.code(303).header('location', '/login').send('');
    },
  });
}
