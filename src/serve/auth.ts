/**
 * Who is asking, and may they. Every route but `/healthz`, the static assets and the login
 * page needs a token:
 *
 * - `Authorization: Bearer th_...` on any route (API and pages: scripts, tests). Checked with
 *   the store's verifyToken (hashed, constant-time). Bearer requests are exempt from CSRF: a
 *   browser never adds that header on its own.
 * - Or the session cookie that `GET /login?token=` (or the login form) trades a token for:
 *   HttpOnly, SameSite=Strict, Path=/, a random 256-bit id kept server-side in memory (never the
 *   token), expiring after 8 hours idle and 24 hours at most, and dropped as soon as its token is
 *   revoked. Every state-changing request made with the cookie must carry the session's CSRF
 *   token (`X-CSRF-Token`, which htmx sends through `hx-headers`, or the `_csrf` form field),
 *   compared in constant time.
 *
 * Roles, each including the one before: reader (read), triager (+ triage, bulk, suppress),
 * admin (+ tokens). A route states the role it needs in its config (`access`).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TokenRole } from '../store/alert-store.ts';
import type { ServeContext } from './context.ts';
import { authError, csrfError, forbidden } from './http-error.ts';

export type Access = 'public' | TokenRole;

export interface Principal {
  /** The token's name: the actor of every change. */
  name: string;
  role: TokenRole;
  via: 'bearer' | 'session';
  session?: Session;
}

export interface Session {
  id: string;
  name: string;
  role: TokenRole;
  /** The token's created_at at login: a token revoked and created again under the same name ends the session. */
  tokenCreatedAt: string;
  csrf: string;
  createdAt: number;
  lastUsedAt: number;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The role a route needs (default reader); `public` needs none. */
    access?: Access;
    /** An HTML page: errors render as a page, not JSON. */
    page?: boolean;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

const ROLE_RANK: Readonly<Record<TokenRole, number>> = { reader: 0, triager: 1, admin: 2 };
export const SESSION_IDLE_MS = 8 * 3_600_000;
export const SESSION_MAX_MS = 24 * 3_600_000;
const MAX_SESSIONS = 10_000;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Whether `role` may do what `needed` allows. */
export function roleAllows(role: TokenRole, needed: TokenRole): boolean {
  return ROLE_RANK[role] >= ROLE_RANK[needed];
}

/** The session cookie's name: `__Host-` (Secure, no Domain, Path=/) when cookies are secure. */
export function sessionCookieName(secure: boolean): string {
  return secure ? '__Host-trailhound_session' : 'trailhound_session';
}

/** Sessions in memory: a restart logs everyone out (log in again with a token). */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  private readonly clock: () => number;

  constructor(clock: () => number = Date.now) {
    this.clock = clock;
  }

  create(name: string, role: TokenRole, tokenCreatedAt: string): Session {
    const now = this.clock();
    this.evict(now);
    if (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value as string);
    const session: Session = { id: randomBytes(32).toString('base64url'), name, role, tokenCreatedAt, csrf: randomBytes(32).toString('base64url'), createdAt: now, lastUsedAt: now };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The live session with this id (its idle time restarts), or undefined. */
  get(id: string): Session | undefined {
    if (typeof id !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
    const session = this.sessions.get(id);
    if (session === undefined) return undefined;
    const now = this.clock();
    if (now - session.lastUsedAt > SESSION_IDLE_MS || now - session.createdAt > SESSION_MAX_MS) {
      this.sessions.delete(id);
      return undefined;
    }
    session.lastUsedAt = now;
    return session;
  }

  delete(id: string): void {
    this.sessions.delete(id);
  }

  /** Ends every session of a token (revoked). */
  deleteByName(name: string): void {
    for (const [id, session] of this.sessions) if (session.name === name) this.sessions.delete(id);
  }

  get size(): number {
    return this.sessions.size;
  }

  private evict(now: number): void {
    for (const [id, session] of this.sessions) {
      if (now - session.lastUsedAt > SESSION_IDLE_MS || now - session.createdAt > SESSION_MAX_MS) this.sessions.delete(id);
    }
  }
}

function equalSecrets(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

/** The bearer token of an `Authorization` header, or undefined when there is none; a malformed header is TH_AUTH. */
function bearerOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (match === null) throw authError('the Authorization header must be "Bearer th_..."');
  return match[1];
}

/** The request's principal from its bearer token or session cookie, or undefined. */
export async function authenticate(request: FastifyRequest, context: ServeContext): Promise<Principal | undefined> {
  const token = bearerOf(request);
  if (token !== undefined) {
    const found = await context.store.verifyToken(token);
    // A wrong token is an error even if a cookie came along: never fall back silently.
    if (found === undefined) throw authError('the bearer token is not valid (revoked, mistyped, or from another store)');
    return { name: found.name, role: found.role, via: 'bearer' };
  }
  const cookie = request.cookies?.[sessionCookieName(context.secureCookies)];
  if (cookie === undefined) return undefined;
  const session = context.sessions.get(cookie);
  if (session === undefined) return undefined;
  // The token behind the session must still exist, with the role it had at login.
  const info = (await context.store.listTokens()).find((candidate) => candidate.name === session.name);
  if (info === undefined || info.role !== session.role || info.created_at !== session.tokenCreatedAt) {
    context.sessions.delete(session.id);
    return undefined;
  }
  return { name: session.name, role: session.role, via: 'session', session };
}

/** The CSRF token a request carries: the header, else the form field. */
function csrfOf(request: FastifyRequest): string | undefined {
  const header = request.headers['x-csrf-token'];
  if (typeof header === 'string') return header;
  const body = request.body as Record<string, unknown> | undefined;
  const field = body !== null && typeof body === 'object' ? body._csrf : undefined;
  return typeof field === 'string' ? field : undefined;
}

/** Sets the session cookie. */
export function setSessionCookie(reply: FastifyReply, context: ServeContext, session: Session): void {
  reply.setCookie(sessionCookieName(context.secureCookies), session.id, {
    httpOnly: true,
    sameSite: 'strict',
    path: '/',
    secure: context.secureCookies,
    maxAge: Math.floor(SESSION_MAX_MS / 1000),
  });
}

export function clearSessionCookie(reply: FastifyReply, context: ServeContext): void {
  reply.clearCookie(sessionCookieName(context.secureCookies), { path: '/', httpOnly: true, sameSite: 'strict', secure: context.secureCookies });
}

/**
 * The hooks: onRequest authenticates and checks the route's role (before any body is read);
 * preValidation checks the CSRF token of cookie-authenticated state changes (after the body is
 * parsed, before it is validated, so a forged request learns nothing from validation errors).
 */
export function installAuth(app: FastifyInstance, context: ServeContext): void {
  app.addHook('onRequest', async (request) => {
    const access: Access = request.routeOptions.config?.access ?? 'reader';
    if (access === 'public') return;
    const principal = await authenticate(request, context);
    if (principal === undefined) throw authError();
    request.principal = principal;
    if (!roleAllows(principal.role, access)) throw forbidden(`the token ${principal.name} has the role ${principal.role}; this request needs ${access}`);
  });
  app.addHook('preValidation', async (request) => {
    const principal = request.principal;
    if (principal?.via !== 'session' || SAFE_METHODS.has(request.method)) return;
    const given = csrfOf(request);
    if (given === undefined || principal.session === undefined || !equalSecrets(given, principal.session.csrf)) throw csrfError();
  });
}
