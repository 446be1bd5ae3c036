import { createHmac } from 'node:crypto';

const base64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');

/** An HS256 JWT for local use: `sub` is the customer id; `roles: ["admin"]` makes an admin. */
export function signDevToken(secret: string, customerId: string, options: { admin?: boolean; ttlSeconds?: number; now?: number } = {}): string {
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = base64url(
    JSON.stringify({ sub: customerId, roles: options.admin ? ['customer', 'admin'] : ['customer'], iat: now, exp: now + (options.ttlSeconds ?? 3600) }),
  );
  const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
}
