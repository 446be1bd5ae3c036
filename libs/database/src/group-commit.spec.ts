import { GroupCommitter } from './group-commit';
import type { SqlPool, SqlTransaction, Statement } from './sql';

/** A pool that records each transaction's statements; the real one is tested against MariaDB. */
function fakePool(fail: (statements: Statement[]) => Error | undefined = () => undefined) {
  const transactions: string[][] = [];
  let releases: (() => void)[] = [];
  const pool = {
    transaction: async <T>(work: (tx: SqlTransaction) => Promise<T>): Promise<T> =>
      work({
        commitWith: async (statements: Statement[]) => {
          await new Promise<void>((resolve) => releases.push(resolve)); // the round trip, until the test lets it end
          const error = fail(statements);
          if (error) throw error;
          transactions.push(statements.map((s) => s.sql));
          return [];
        },
      } as unknown as SqlTransaction),
  } as unknown as SqlPool;
  const tick = () => new Promise((resolve) => setImmediate(resolve));
  const finishRoundTrip = async () => {
    await tick();
    const pending = releases;
    releases = [];
    for (const release of pending) release();
    await tick();
  };
  return { pool, transactions, finishRoundTrip };
}

/** 'ok', or the message a commit failed with. */
const outcomeOf = (commit: Promise<void>) =>
  commit.then(
    () => 'ok',
    (e: Error) => e.message,
  );

const duplicate = () => Object.assign(new Error('Duplicate entry'), { code: 'ER_DUP_ENTRY' });

describe('GroupCommitter', () => {
  it('when writes arrive while one is in flight, then they share the next transaction and each resolves', async () => {
    const { pool, transactions, finishRoundTrip } = fakePool();
    const committer = new GroupCommitter(pool);
    const first = committer.commit([{ sql: 'a' }]);
    const later = [committer.commit([{ sql: 'b1' }, { sql: 'b2' }]), committer.commit([{ sql: 'c' }])];
    await finishRoundTrip();
    await first;
    await finishRoundTrip();
    await Promise.all(later);
    expect(transactions).toEqual([['a'], ['b1', 'b2', 'c']]);
  });

  const signalled = () => Object.assign(new Error('orderflow fence: bucket not writable here'), { code: 'ER_SIGNAL_EXCEPTION' });

  it.each([
    ['a duplicate key', duplicate],
    ['a refusal a stored program SIGNALs (a shard fence)', signalled],
  ])('when one group breaks the shared transaction with %s, then every group is written alone and only that one fails', async (_, refusal) => {
    const { pool, transactions, finishRoundTrip } = fakePool((statements) => (statements.some((s) => s.sql === 'dup') ? refusal() : undefined));
    const committer = new GroupCommitter(pool);
    const first = committer.commit([{ sql: 'a' }]);
    const results = [committer.commit([{ sql: 'b' }]), committer.commit([{ sql: 'dup' }]), committer.commit([{ sql: 'c' }])].map(outcomeOf);
    await finishRoundTrip();
    await first;
    for (let i = 0; i < 3; i++) await finishRoundTrip();
    expect(await Promise.all(results)).toEqual(['ok', refusal().message, 'ok']);
    expect(transactions).toEqual([['a'], ['b'], ['c']]);
  });

  it('when the shared transaction fails otherwise, then every group gets that error (whether it committed is unknown)', async () => {
    const { pool, finishRoundTrip } = fakePool((statements) => (statements.length > 1 ? new Error('connection lost') : undefined));
    const committer = new GroupCommitter(pool);
    const first = committer.commit([{ sql: 'a' }]);
    const results = [committer.commit([{ sql: 'b' }]), committer.commit([{ sql: 'c' }])].map(outcomeOf);
    await finishRoundTrip();
    await first;
    await finishRoundTrip();
    expect(await Promise.all(results)).toEqual(['connection lost', 'connection lost']);
  });

  it('when more groups wait than the maximum, then they go in several transactions, in arrival order', async () => {
    const { pool, transactions, finishRoundTrip } = fakePool();
    const committer = new GroupCommitter(pool, 2);
    const all = ['a', 'b', 'c', 'd', 'e'].map((sql) => committer.commit([{ sql }]));
    for (let i = 0; i < 4; i++) await finishRoundTrip();
    await Promise.all(all);
    expect(transactions).toEqual([['a'], ['b', 'c'], ['d', 'e']]);
  });

  it('when groups carry keys, then a shared transaction opens ONCE with what the opening makes of all their keys, and a group written alone with its own', async () => {
    const refusedKey = 'k9';
    const { pool, transactions, finishRoundTrip } = fakePool((statements) =>
      statements.some((s) => s.sql.startsWith('fence') && s.sql.includes(refusedKey)) ? signalled() : undefined,
    );
    const committer = new GroupCommitter<string>(pool, 64, (keys) => [{ sql: `fence ${[...new Set(keys)].sort().join(',')}` }]);
    const first = committer.commit([{ sql: 'a' }], 'k1');
    const shared = [committer.commit([{ sql: 'b' }], 'k2'), committer.commit([{ sql: 'c' }], 'k1'), committer.commit([{ sql: 'd' }], 'k3')];
    await finishRoundTrip();
    await first;
    await finishRoundTrip();
    await Promise.all(shared);
    expect(transactions).toEqual([
      ['fence k1', 'a'],
      ['fence k1,k2,k3', 'b', 'c', 'd'],
    ]);

    // The opening refuses a shared transaction (a fenced key among them): every group again alone, behind its own opening.
    transactions.length = 0;
    const lead = committer.commit([{ sql: 'e' }], 'k2');
    const results = [committer.commit([{ sql: 'f' }], 'k3'), committer.commit([{ sql: 'g' }], refusedKey)].map(outcomeOf);
    await finishRoundTrip();
    await lead;
    for (let i = 0; i < 2; i++) await finishRoundTrip();
    expect(await Promise.all(results)).toEqual(['ok', signalled().message]);
    expect(transactions).toEqual([
      ['fence k2', 'e'],
      ['fence k3', 'f'],
    ]);
  });
});
