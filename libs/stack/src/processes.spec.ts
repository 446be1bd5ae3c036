import { spawn } from 'node:child_process';
import { childPids, isAlive, readPid, spawnDetached, stopPid, waitFor } from './processes';
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

  it('when a process has children, then childPids lists them oldest first', async () => {
    const parent = spawn('sh', ['-c', 'sleep 30 & sleep 0.05; sleep 30 & wait'], { stdio: 'ignore' });
    try {
      await waitFor('two children', async () => childPids(parent.pid!).length === 2, 5_000);
      const [first, second] = childPids(parent.pid!);
      expect(first! < second!).toBe(true);
      expect(childPids(process.pid)).toContain(parent.pid);
    } finally {
      for (const pid of childPids(parent.pid!)) process.kill(pid, 'SIGKILL');
      parent.kill('SIGKILL');
    }
  });
});
