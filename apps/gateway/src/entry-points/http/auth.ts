import { createPublicKey, JsonWebKey } from 'node:crypto';
import fastifyJwt from '@fastify/jwt';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { GatewayConfig } from '../../config';
import { Problem, problem } from './problems';

export interface Principal {
  customerId: string;
  admin: boolean;
}

const SUBJECT = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}$/;

/** Keys from a JWKS URL by kid, cached for five minutes; an unknown kid refreshes the set once. */
export function jwksKeyStore(url: string, ttlMs = 5 * 60_000) {
  let keys = new Map<string, string>();
  let fetchedAt = 0;
  const refresh = async () => {
    const response = await fetch(url, { signal: AbortSignal.timeout(3_000) });
    if (!response.ok) throw new Error(`JWKS ${url} answered ${response.status}`);
    const body = (await response.json()) as { keys?: (JsonWebKey & { kid?: string })[] };
    keys = new Map(
      (body.keys ?? [])
        .filter((k) => k.kid)
        .map((k) => [k.kid as string, createPublicKey({ key: k, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString()]),
    );
    fetchedAt = Date.now();
  };
  return async (kid: string | undefined): Promise<string> => {
    if (Date.now() - fetchedAt > ttlMs || (kid && !keys.has(kid))) await refresh();
    const key = kid ? keys.get(kid) : keys.size === 1 ? [...keys.values()][0] : undefined;
    if (!key) throw new Error(`no JWKS key for kid ${kid ?? '(none)'}`);
    return key;
  };
}

/** Registers JWT verification: HS256 with JWT_SECRET, or RS256 with a PEM key or a JWKS URL. */
export async function registerAuth(app: FastifyInstance, config: GatewayConfig['jwt']): Promise<void> {
  const verify = {
    algorithms: [config.algorithm],
    ...(config.issuer ? { allowedIss: config.issuer } : {}),
    ...(config.audience ? { allowedAud: config.audience } : {}),
  };
  if (config.algorithm === 'HS256') {
    await app.register(fastifyJwt, { secret: config.secret, verify });
  } else if (config.publicKey) {
    await app.register(fastifyJwt, { secret: { public: config.publicKey }, verify });
  } else {
    const keyFor = jwksKeyStore(config.jwksUrl as string);
    await app.register(fastifyJwt, {
      secret: (_request: FastifyRequest, token: unknown, callback: (error: Error | null, key?: string) => void) => {
        const kid = (token as { header?: { kid?: string } }).header?.kid;
        keyFor(kid).then(
          (key) => callback(null, key),
          (error: Error) => callback(error),
        );
      },
      verify,
    } as never);
  }
}

/** The caller, from a verified token: `sub` is the customer id; roles containing "admin" makes an admin. */
export async function authenticate(request: FastifyRequest): Promise<Principal> {
  if (!request.headers.authorization) throw problem('unauthorized', 'missing Authorization: Bearer <token>');
  let claims: { sub?: unknown; roles?: unknown };
  try {
    claims = await request.jwtVerify<{ sub?: unknown; roles?: unknown }>();
  } catch (error) {
    throw problem('unauthorized', `invalid token: ${(error as Error).message}`);
  }
  if (typeof claims.sub !== 'string' || !SUBJECT.test(claims.sub)) throw problem('unauthorized', 'the token has no usable sub (customer id)');
  const roles = Array.isArray(claims.roles) ? claims.roles : [];
  return { customerId: claims.sub, admin: roles.includes('admin') };
}

export function requireAdmin(principal: Principal): void {
  if (!principal.admin) throw problem('forbidden', 'this operation needs the admin role');
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller, on routes whose config.auth is 'customer' or 'admin'. */
    principal: Principal | null;
  }
}

/**
 * Access control by each route's `config.auth`, in onRequest: before the body is parsed or validated,
 * so a caller without a token gets 401 and a customer on an admin route 403, whatever the body.
 */
export function installAccessControl(app: FastifyInstance): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config.auth;
    if (!access || access === 'public') return;
    request.principal = await authenticate(request);
    if (access === 'admin') requireAdmin(request.principal);
  });
}

/** The caller of a route declared `auth: 'customer'` or `'admin'`. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new Error(`route ${request.routeOptions.url} reads the principal but is not declared with config.auth 'customer' or 'admin'`);
  return request.principal;
}

export type { Problem };
