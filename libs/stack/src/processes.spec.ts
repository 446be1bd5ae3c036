import { isAlive, readPid, spawnDetached, stopPid, waitFor } from './processes';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

describe('process helpers', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stack-spec-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('when a detached process is stopped, then it is gone and its pid file was accurate', async () => {
    const pidFile = path.join(dir, 'sleep.pid');
    const pid = spawnDetached('sleep', ['30'], path.join(dir, 'sleep.log'), pidFile);
    expect(readPid(pidFile)).toBe(pid);
    expect(isAlive(pid)).toBe(true);
    await stopPid(pid, 5000);
    expect(isAlive(pid)).toBe(false);
  });

  it('when a check never passes, then waitFor fails naming what it waited for', async () => {
    await expect(waitFor('the moon', async () => false, 300)).rejects.toThrow(/the moon did not become ready/);
  });
});
