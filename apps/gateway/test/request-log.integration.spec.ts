import { Writable } from 'node:stream';
import { signDevToken } from '../src/dev-token';
import { gatewaysAlone } from './support';

/**
 * What a request costs in the logs (the gateway alone, its downstream services unreachable): nothing at info on the
 * way through, one line at debug, and a failure logged once by the error handler.
 */
describe('gateway request logging (in process, no downstream)', () => {
  const alone = gatewaysAlone();

  async function gateway(level: string) {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(...String(chunk).split('\n').filter(Boolean)), done()) });
    const { get } = await alone({ LOG_LEVEL: level, JWT_SECRET: 'a-test-secret-of-some-length' }, { logDestination: sink });
    return { get, records: () => lines.map((l) => JSON.parse(l) as { level: number; msg: string; reqId?: string; name?: string }) };
  }

  it('when requests are answered at info level, then none writes an info or debug line', async () => {
    const { get, records } = await gateway('info');
    const before = records().length;
    for (let i = 0; i < 3; i++) expect((await get('/healthz')).status).toBe(200);
    expect((await get('/api/products/nope')).status).toBeGreaterThanOrEqual(400);
    expect((await get('/no/such/route')).status).toBe(404);
    await new Promise((r) => setTimeout(r, 50));
    expect(
      records()
        .slice(before)
        .filter((r) => r.level <= 30),
    ).toEqual([]);
  });

  it('when the level is debug, then each request is one line, with its request id, and its credentials redacted', async () => {
    const { get, records } = await gateway('debug');
    const token = signDevToken('a-test-secret-of-some-length', 'alice');
    for (let i = 0; i < 3; i++) expect((await get('/healthz', token)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 50));
    const requestLines = records().filter((r) => r.reqId);
    expect(requestLines.map((r) => r.msg)).toEqual(['request completed', 'request completed', 'request completed']);
    expect(new Set(requestLines.map((r) => r.reqId)).size).toBe(3);
    expect(requestLines.every((r) => r.level === 20 && r.name === 'gateway')).toBe(true);
    expect(JSON.stringify(requestLines)).not.toContain(token.split('.')[2]);
  });

  it('when a request fails downstream, then it is logged once, as a warning with its cause and request id', async () => {
    const { get, records } = await gateway('info');
    const before = records().length;
    expect((await get('/api/orders', signDevToken('a-test-secret-of-some-length', 'alice'))).status).toBe(503);
    await new Promise((r) => setTimeout(r, 50));
    const lines = records().slice(before);
    expect(lines).toEqual([expect.objectContaining({ level: 40, msg: 'downstream error', reqId: expect.any(String) })]);
  });
});
