import { generateKeyPairSync, createSign } from 'node:crypto';
import http from 'node:http';
import { Writable } from 'node:stream';
import { freePort } from '@orderflow/stack';
import { loadConfig } from '../src/config';
import { signDevToken } from '../src/dev-token';
import { gatewaysAlone } from './support';

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

function rs256(privateKey: string, kid: string, claims: object): string {
  const head = `${b64({ alg: 'RS256', typ: 'JWT', kid })}.${b64(claims)}`;
  return `${head}.${createSign('RSA-SHA256').update(head).sign(privateKey).toString('base64url')}`;
}

/**
 * The gateway alone, its downstream services unreachable: a request that passes authentication ends
 * in 503 (nothing behind it), one that does not is 401. So these tests see auth without the system.
 */
describe('gateway authentication and logging (in process, no downstream)', () => {
  const lines: string[] = [];
  const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(chunk.toString()), done()) });
  const alone = gatewaysAlone();

  async function gateway(env: Record<string, string>) {
    // debug: the one line per request (its headers, credentials redacted) is a debug line.
    return (await alone({ LOG_LEVEL: 'debug', ...env }, { logDestination: sink })).get;
  }

  it('when HS256 tokens are checked, then a valid one passes, an expired or foreign-signed one is 401, and no token reaches the logs', async () => {
    const get = await gateway({ JWT_SECRET: 'a-test-secret-of-some-length' });
    const good = signDevToken('a-test-secret-of-some-length', 'alice');
    expect((await get('/api/orders', good)).status).toBe(503);
    expect((await get('/api/orders', signDevToken('a-test-secret-of-some-length', 'alice', { ttlSeconds: -5 }))).status).toBe(401);
    expect((await get('/api/orders', signDevToken('another-secret', 'alice'))).status).toBe(401);
    expect((await get('/api/orders', signDevToken('a-test-secret-of-some-length', 'bad subject!'))).status).toBe(401);
    const log = lines.join('');
    expect(log).not.toContain(good.split('.')[2]);
    expect(log).toContain('"authorization":"[Redacted]"');
    expect(lines.some((l) => l.includes('"reqId"'))).toBe(true);
  });

  it('when RS256 keys come from a JWKS URL, then a token signed by the listed key passes and one by another key is 401', async () => {
    const listed = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = { ...listed.publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' };
    const jwks = http.createServer((_req, res) => res.setHeader('content-type', 'application/json').end(JSON.stringify({ keys: [jwk] })));
    const port = await freePort();
    await new Promise<void>((resolve) => jwks.listen(port, '127.0.0.1', resolve));
    try {
      const get = await gateway({ JWT_ALGORITHM: 'RS256', JWT_JWKS_URL: `http://127.0.0.1:${port}/jwks.json` });
      const now = Math.floor(Date.now() / 1000);
      const claims = { sub: 'rsa-customer', roles: ['admin'], iat: now, exp: now + 60 };
      const privatePem = (k: typeof listed) => k.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      expect((await get('/api/orders', rs256(privatePem(listed), 'k1', claims))).status).toBe(503);
      expect((await get('/api/orders', rs256(privatePem(other), 'k1', claims))).status).toBe(401);
      expect((await get('/api/orders', signDevToken('orderflow-dev-secret-change-me', 'alice'))).status).toBe(401);
    } finally {
      jwks.close();
    }
  });

  it('when RS256 uses a PEM public key, then tokens it verifies pass', async () => {
    const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const get = await gateway({ JWT_ALGORITHM: 'RS256', JWT_PUBLIC_KEY: keys.publicKey.export({ type: 'spki', format: 'pem' }).toString() });
    const now = Math.floor(Date.now() / 1000);
    const token = rs256(keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 'any', { sub: 'pem-customer', iat: now, exp: now + 60 });
    expect((await get('/api/orders', token)).status).toBe(503);
  });

  it('when the dev secret is configured in production, then the gateway refuses to start', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET/);
  });

  it('when downstream services are unreachable, then /readyz is 503 and /healthz stays 200', async () => {
    const get = await gateway({});
    expect((await get('/readyz')).status).toBe(503);
    expect((await get('/healthz')).status).toBe(200);
  });
});
