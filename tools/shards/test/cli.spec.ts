import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { typescriptNodeArgs, workspaceRoot } from '@orderflow/stack';
import { shardsCli, TABLES } from '../src';
import { createTestShards, rowsInBuckets, seedOrders, type TestShards } from './fixture';

const SPEC = '0-511:0,512-1023:1';

/** `npm run shards -- ...` as a child process (what bootstrap.mjs runs), with the test's shards. */
function runCommand(args: string[], env: Record<string, string>) {
  const output: string[] = [];
  const child = spawn(process.execPath, typescriptNodeArgs(path.join(workspaceRoot(), 'tools/scripts/shards.ts'), []).concat(args), {
    cwd: workspaceRoot(),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exit, output: () => output.join('') };
}

/** The command in this process: its lines and exit code. */
async function cli(args: string[], env: Record<string, string>, progress?: (line: string) => void, onLine?: (line: string) => void) {
  const lines: string[] = [];
  const out = (line: string) => {
    lines.push(line);
    onLine?.(line);
  };
  const code = await shardsCli(args, { out, progress, env: { ...env } });
  return { code, text: lines.join('\n') };
}

describe('npm run shards', () => {
  let shards: TestShards;
  afterEach(async () => shards?.drop());

  it('when the command is killed with SIGKILL mid-copy and run again, then it resumes the copy and finishes the move', async () => {
    shards = await createTestShards('orders', 3, SPEC);
    await seedOrders(shards, SPEC, [40, 41, 42, 43], 400);
    const args = ['move', '--buckets', '40-43', '--to', '2', '--batch', '10', '--soak', '1s', '--watch', 'http://127.0.0.1:1/metrics'];
    const first = runCommand(args, shards.env);
    let copied = 0;
    const deadline = Date.now() + 60_000;
    while (copied < 300) {
      if (Date.now() > deadline || first.child.exitCode !== null) throw new Error(`the copy did not get going:\n${first.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const [row] = await shards.pools[0]!.select<{ progress: string }>('SELECT progress FROM shard_moves');
      copied = row ? Object.values(JSON.parse(row.progress).tables as Record<string, { copied: number }>).reduce((n, t) => n + t.copied, 0) : 0;
    }
    first.child.kill('SIGKILL');
    await first.exit;
    const [killed] = await shards.pools[0]!.select<{ state: string; progress: string }>('SELECT state, progress FROM shard_moves');
    expect(killed!.state).toBe('copying');
    const total = Object.values(JSON.parse(killed!.progress).tables as Record<string, { total: number }>).reduce((n, t) => n + t.total, 0);

    const second = runCommand(args, shards.env);
    expect(await second.exit).toBe(0);
    const output = second.output();
    expect(output).toContain('resuming move #1 (buckets 40-43, shard 0 -> 2) at "copying"');
    expect(output).toContain('move #1 done: buckets 40-43 of the orders set moved from shard 0 to shard 2');
    expect(output).toMatch(/phase\s+time\s+rows\s+changes applied\s+fenced ms\s+verify/);
    expect(output).toMatch(/switching .* ok \(\d+ rows\)/);
    // The second run copied only what the first had not: the cursor survived the kill.
    const copyRows = /\ncopying\s+\S+ \S*\s+([\d,]+)/.exec(output);
    expect(Number(copyRows![1]!.replace(/,/g, ''))).toBeLessThan(total);
    for (const table of TABLES.orders) {
      expect(await rowsInBuckets(shards.pools[0]!, table.name, table.orderIdColumn, 40, 43)).toBe(0);
    }
    expect(await rowsInBuckets(shards.pools[2]!, 'orders', 'id', 40, 43)).toBe(1600);
    const verify = await cli(['verify', '--set', 'orders'], shards.env);
    expect(verify).toMatchObject({ code: 0 });
    expect(verify.text).toContain('every row of every table lies on the shard that owns its bucket');
  });

  it('when a move runs with --watch and --metrics-port, then it prints PlaceOrder figures per window and serves its gauges', async () => {
    shards = await createTestShards('orders', 3, SPEC);
    await seedOrders(shards, SPEC, [40, 41], 200);
    // A stand-in for order-command's /metrics: 50 more PlaceOrder answers, all under 5 ms, at every scrape.
    let answered = 0;
    const fake = http.createServer((_, response) => {
      answered += 50;
      const series = 'grpc_service="orderflow.order.v1.OrderCommandService",grpc_method="PlaceOrder"';
      response.end(
        [
          `orderflow_grpc_server_handling_seconds_bucket{le="0.005",${series}} ${answered}`,
          `orderflow_grpc_server_handling_seconds_bucket{le="+Inf",${series}} ${answered}`,
          `orderflow_grpc_server_handling_seconds_count{${series}} ${answered}`,
        ].join('\n'),
      );
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(fake.address() as AddressInfo).port}/metrics`;
    let scraped: Promise<string> | undefined;
    let metricsUrl = '';
    try {
      const run = await cli(
        ['move', '--buckets', '40-41', '--to', '2', '--batch', '50', '--soak', '0s', '--watch', url, '--metrics-port', '0'],
        shards.env,
        (line) => {
          // The progress line of the copy (a terminal's): the gauges are scraped while it runs.
          if (line.startsWith('copying')) scraped ??= fetch(metricsUrl).then((r) => r.text());
        },
        (line) => {
          metricsUrl ||= /mover metrics at (\S+)/.exec(line)?.[1] ?? '';
        },
      );
      expect(run.code).toBe(0);
      const gauges = await scraped!;
      expect(gauges).toMatch(/orderflow_shard_move_rows_copied\{set="orders",table="orders"\} \d+/);
      expect(gauges).toMatch(/orderflow_shard_move_rows_total\{set="orders",table="orders"\} 400/);
      expect(gauges).toContain('orderflow_shard_move_state{set="orders",state="copying"} 1');
      expect(run.text).toMatch(/PlaceOrder\s+seconds\s+orders\s+orders\/s\s+p99/);
      for (const window of ['before', 'during copy', 'switch window', 'after'])
        expect(run.text).toMatch(new RegExp(`\\n${window}\\s+[\\d.]+\\s+50\\s+[\\d.]+\\s+[\\d.]+ ms`));
    } finally {
      fake.close();
    }
    expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  });

  it('when status and plan are asked on a set with a new empty shard, then they show the map and the moves that even it out', async () => {
    shards = await createTestShards('orders', 3, SPEC);
    await seedOrders(shards, SPEC, [5, 600], 3);
    const status = await cli(['status', '--set', 'orders'], shards.env);
    expect(status.code).toBe(0);
    expect(status.text).toContain('orders set: map version 1');
    expect(status.text).toMatch(/\n0\s+\S+_0\s+512\s+0-511\s+3\s+512 OWNED\n1\s+\S+_1\s+512\s+512-1023\s+3\s+512 OWNED\n2\s+\S+_2\s+0\s+\(none\)\s+0\s+-\n/);
    expect(status.text).toContain('no active move');
    const plan = await cli(['plan', '--set', 'orders'], shards.env);
    expect(plan.text).toContain('npm run shards -- move --set orders --buckets 342-511 --to 2   # from shard 0');
    expect(plan.text).toContain('npm run shards -- move --set orders --buckets 853-1023 --to 2   # from shard 1');
    // A row on a shard that does not own its bucket is named by verify.
    const [stray] = await seedOrders(shards, '0-1023:2', [5], 1);
    const verify = await cli(['verify', '--set', 'orders'], shards.env);
    expect(verify.code).toBe(1);
    expect(verify.text).toMatch(new RegExp(`\\n2\\s+orders\\s+5\\s+1\\s+0\\s+${stray}`));
    const refused = await cli(['move', '--buckets', '1-2', '--to', '7'], shards.env);
    expect(refused.code).toBe(2);
    expect(refused.text).toContain("refused: shard 7 is not in the orders set's list");
  });
});
