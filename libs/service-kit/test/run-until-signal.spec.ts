import { spawn } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const root = path.resolve(__dirname, '..', '..', '..');
const loader = pathToFileURL(path.join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

/** Starts the fixture, sends `signals` 100 ms apart once it is READY, and says how it ended. */
async function signalled(...signals: NodeJS.Signals[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', loader, path.join(__dirname, 'signal-fixture.ts'), '800'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  const ready = new Promise<void>((resolve) =>
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('READY')) resolve();
    }),
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  await ready;
  for (const signal of signals) {
    child.kill(signal);
    await new Promise((r) => setTimeout(r, 100));
  }
  const code = await exited;
  return { code, output };
}

describe('runUntilSignal (a real process)', () => {
  it('when Ctrl-C is followed by a supervisor SIGTERM, then the drain still finishes and the process exits 0', async () => {
    const { code, output } = await signalled('SIGINT', 'SIGTERM');
    expect(output).toContain('DRAINED');
    expect(output).toContain('already shutting down');
    expect(code).toBe(0);
  }, 30_000);

  it('when Ctrl-C comes twice, then the second one exits at once with 1, without waiting for the drain', async () => {
    const { code, output } = await signalled('SIGINT', 'SIGINT');
    expect(output).toContain('second signal: exiting now');
    expect(output).not.toContain('DRAINED');
    expect(code).toBe(1);
  }, 30_000);
});
