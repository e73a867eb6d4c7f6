/**
 * The API's error shape, `{"error": {"code": "TH_*", "message": "..."}}`, with the HTTP status
 * each code maps to: store errors keep theirs (StoreError.status), authentication is 401
 * TH_AUTH, a role short of the route's 403 TH_FORBIDDEN, a missing CSRF token 403 TH_CSRF.
 */
import type { ErrorCode } from '../core/errors.ts';
import { StoreError } from '../store/alert-store.ts';

export class HttpError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const authError = (message = 'this request needs a token: Authorization: Bearer th_..., or log in with the URL trailhound serve printed'): HttpError => new HttpError('TH_AUTH', message, 401);
export const forbidden = (message: string): HttpError => new HttpError('TH_FORBIDDEN', message, 403);
export const csrfError = (): HttpError => new HttpError('TH_CSRF', 'a state-changing request made with the session cookie needs the CSRF token (X-CSRF-Token header or _csrf form field): reload the page and try again', 403);
export const notFound = (message: string): HttpError => new HttpError('TH_STORE_NOT_FOUND', message, 404);
export const badRequest = (message: string): HttpError => new HttpError('TH_STORE_INVALID', message, 400);

export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  validation?: unknown;
  validationContext?: string;
  message: string;
}

/** The status and body for any error a route or hook threw. `internal` is true for a 500 to log. */
export function errorResponse(error: unknown): { status: number; body: ErrorBody; internal: boolean } {
  if (error instanceof HttpError || error instanceof StoreError) {
    return { status: error.status, body: { error: { code: error.code, message: error.message } }, internal: error.status >= 500 };
  }
  const fastifyError = error as FastifyLikeError;
  if (fastifyError !== null && typeof fastifyError === 'object' && fastifyError.validation !== undefined) {
    const where = fastifyError.validationContext === undefined ? '' : `${fastifyError.validationContext}: `;
    return { status: 400, body: { error: { code: 'TH_STORE_INVALID', message: `${where}${fastifyError.message}`.slice(0, 500) } }, internal: false };
  }
  const status = typeof fastifyError?.statusCode === 'number' ? fastifyError.statusCode : 500;
  if (status >= 400 && status < 500) {
    // fastify's own 4xx: malformed JSON, body too large, unsupported media type.
    return { status, body: { error: { code: 'TH_STORE_INVALID', message: String(fastifyError.message).slice(0, 500) } }, internal: false };
  }
  return { status: 500, body: { error: { code: 'TH_STORE_OPEN', message: 'internal error while serving the request: see the server log' } }, internal: true };
}
