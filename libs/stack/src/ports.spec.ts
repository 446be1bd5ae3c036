import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ephemeralLow, freePort } from './ports';

describe('freePort', () => {
  let claims: string;
  beforeEach(() => (claims = fs.mkdtempSync(path.join(os.tmpdir(), 'orderflow-ports-spec-'))));
  afterEach(() => fs.rmSync(claims, { recursive: true, force: true }));

  it('when asked many times, then every port is distinct, below the ephemeral range, listenable and claimed', async () => {
    const ports = [];
    for (let i = 0; i < 40; i++) ports.push(await freePort({ claims }));
    expect(new Set(ports).size).toBe(40);
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(27_000);
      expect(port).toBeLessThan(ephemeralLow());
      expect(fs.readFileSync(path.join(claims, String(port)), 'utf8')).toBe(String(process.pid));
    }
  });

  it('when a port is claimed by another process, or something listens on it, then the next one is handed out; a stale claim is taken over', async () => {
    const picks = [0, 0, 0.5, 0.9];
    const random = () => picks.shift() ?? 0.99;
    const below = 28_000;
    const listener = net.createServer();
    await new Promise<void>((resolve) => listener.listen(27_500, '127.0.0.1', resolve));
    try {
      fs.writeFileSync(path.join(claims, '27000'), '1'); // fresh claim of 27000: skipped (picked twice)
      const stale = path.join(claims, '27900');
      fs.writeFileSync(stale, '1');
      fs.utimesSync(stale, new Date(Date.now() - 11 * 60_000), new Date(Date.now() - 11 * 60_000));
      // 27000 claimed, 27000 again, 27500 listened on, then 27900 (stale claim: taken over)
      expect(await freePort({ claims, below, random })).toBe(27_900);
      expect(fs.readFileSync(stale, 'utf8')).toBe(String(process.pid));
    } finally {
      await new Promise((resolve) => listener.close(resolve));
    }
  });
});
