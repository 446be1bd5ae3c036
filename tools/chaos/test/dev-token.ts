import { createHmac } from 'node:crypto';

/**
 * A dev JWT as the README documents it (HS256 with JWT_SECRET, default `orderflow-dev-secret-change-me`;
 * `sub` the customer, `roles` with "admin" for an admin). Written here because a tooling project may
 * not import an app's source (module boundaries); `npm run chaos` uses the gateway's own signDevToken.
 */
export function devToken(customerId: string, options: { admin?: boolean; ttlSeconds?: number } = {}): string {
  const secret = process.env.JWT_SECRET ?? 'orderflow-dev-secret-change-me';
  const now = Math.floor(Date.now() / 1000);
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const claims = { sub: customerId, roles: options.admin ? ['customer', 'admin'] : ['customer'], iat: now, exp: now + (options.ttlSeconds ?? 3600) };
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}
