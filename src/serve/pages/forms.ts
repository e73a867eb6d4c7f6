/** Reading form posts (application/x-www-form-urlencoded): one value, a list, a redirect that works with and without htmx. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { badRequest } from '../http-error.ts';

export type FormBody = Readonly<Record<string, string | string[] | undefined>>;

/** A form schema: the named fields, each text or repeated text; others refused. */
export function formSchema(fields: Readonly<Record<string, number>>, required: readonly string[] = []): Record<string, unknown> {
  return {
    type: 'object',
    additionalProperties: false,
    required: [...required],
    properties: Object.fromEntries(
      Object.entries({ _csrf: 200, ...fields }).map(([name, maxLength]) => [name, { anyOf: [{ type: 'string', maxLength }, { type: 'array', items: { type: 'string', maxLength }, maxItems: 10_000 }] }]),
    ),
  };
}

export function formBody(request: FastifyRequest): FormBody {
  const body = request.body;
  return body !== null && typeof body === 'object' ? (body as FormBody) : {};
}

/** One field's value ('' when absent); a repeated field is refused. */
export function field(body: FormBody, name: string): string {
  const value = body[name];
  if (value === undefined) return '';
  if (Array.isArray(value)) throw badRequest(`${name} is given more than once`);
  return (value as string).trim();
}

/** A field that may repeat. */
export function fields(body: FormBody, name: string): string[] {
  const value = body[name];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map((item) => item.trim()).filter((item) => item !== '');
}

/** After a form post: 303 to `location`; for htmx, HX-Location (an in-page navigation that updates the URL). */
export function seeOther(request: FastifyRequest, reply: FastifyReply, location: string): FastifyReply {
  if (request.headers['hx-request'] === 'true') return reply.code(200).header('HX-Location', JSON.stringify({ path: location, target: 'body' })).send('');
  return reply.code(303).header('location', location).send('');
}
