import { isSignalled, type SqlPool } from '@orderflow/database';
import { fenceStatement, isFenceRejection } from '../src';
import { setBucket, ShardSet, shardSet, sleep, waitFor } from './support';

/** A fenced write: the fence first, then an insert into the test table, one transaction. */
const fencedInsert = (pool: SqlPool, bucket: number, version: number, id: number) =>
  pool.transaction((tx) => tx.commitWith([fenceStatement(bucket, version), { sql: 'INSERT INTO writes (id, bucket) VALUES (?, ?)', values: [id, bucket] }]));

describe('orderflow_fence on a shard (real MariaDB)', () => {
  let set: ShardSet;
  let pool: SqlPool;
  let nextId = 0;
  const written = async (id: number) => (await set.rows<{ id: string }>(0, 'SELECT id FROM writes WHERE id = ?', [id])).length === 1;

  beforeAll(async () => {
    set = await shardSet(1);
    pool = set.pools[0]!;
  });
  afterAll(() => set?.drop());

  async function expectRefused(bucket: number, version: number): Promise<void> {
    const id = ++nextId;
    const error = await fencedInsert(pool, bucket, version, id).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeDefined();
    expect(isSignalled(error)).toBe(true);
    expect(isFenceRejection(error)).toBe(true);
    expect(await written(id)).toBe(false);
  }

  async function expectPasses(bucket: number, version: number): Promise<void> {
    const id = ++nextId;
    await fencedInsert(pool, bucket, version, id);
    expect(await written(id)).toBe(true);
  }

  it('when the shard does not hold the bucket, then the fence refuses and nothing of the transaction is written', async () => {
    await expectRefused(1, 1);
  });

  it('when the shard owns the bucket at the routed version or an earlier one, then the write passes', async () => {
    await setBucket(set, 0, 2, 3, 'OWNED');
    await expectPasses(2, 3);
    await expectPasses(2, 7);
  });

  it('when the bucket was MOVED away, then the fence refuses, whatever version the writer routed with', async () => {
    await setBucket(set, 0, 3, 2, 'MOVED');
    await expectRefused(3, 1);
    await expectRefused(3, 2);
    await expectRefused(3, 9);
  });

  it('when the shard got the bucket at a newer version than the writer routed with (a stale map), then the fence refuses', async () => {
    await setBucket(set, 0, 4, 5, 'OWNED');
    await expectRefused(4, 4);
    await expectPasses(4, 5);
  });

  it('when the bucket is FENCED with a live lease, then the fence refuses; when the lease has lapsed, then writes pass again', async () => {
    await setBucket(set, 0, 5, 1, 'FENCED', 10_000);
    await expectRefused(5, 1);
    await setBucket(set, 0, 6, 1, 'FENCED', -1);
    await expectPasses(6, 1);
    // The same bucket, its lease running out while writers keep coming.
    await setBucket(set, 0, 7, 1, 'FENCED', 300);
    await expectRefused(7, 1);
    await sleep(350);
    await expectPasses(7, 1);
  });

  it('when a writer has passed the fence, then a mover fencing the bucket waits for that writer to commit, and writers after the mover are refused', async () => {
    await setBucket(set, 0, 8, 1, 'OWNED');
    const order: string[] = [];
    let moverStarted = false;
    let moverDone = false;
    let releaseWriter = () => undefined as void;
    const writerMayCommit = new Promise<void>((resolve) => (releaseWriter = resolve));
    const id = ++nextId;
    const writer = pool.transaction(async (tx) => {
      await tx.run([fenceStatement(8, 1), { sql: 'INSERT INTO writes (id, bucket) VALUES (?, 8)', values: [id] }]);
      order.push('writer passed the fence');
      await writerMayCommit;
      order.push('writer commits');
      await tx.commitWith([]);
    });
    await waitFor(async () => order.length === 1, 'the writer past the fence');
    const mover = (async () => {
      moverStarted = true;
      await set.exec(0, `UPDATE shard_buckets SET state = 'FENCED', fenced_until = NOW(3) + INTERVAL 10 SECOND WHERE bucket = 8`);
      moverDone = true;
      order.push('mover fenced the bucket');
    })();
    // The mover's exclusive lock waits on the writer's shared lock for as long as the writer keeps its transaction.
    await sleep(400);
    expect(moverStarted).toBe(true);
    expect(moverDone).toBe(false);
    releaseWriter();
    await Promise.all([writer, mover]);
    expect(order).toEqual(['writer passed the fence', 'writer commits', 'mover fenced the bucket']);
    expect(await written(id)).toBe(true);
    await expectRefused(8, 1);
  });

  it('when a mover holds the bucket row (its fencing transaction not yet committed), then a writer waits for it and is then refused', async () => {
    await setBucket(set, 0, 9, 1, 'OWNED');
    let releaseMover = () => undefined as void;
    const moverMayCommit = new Promise<void>((resolve) => (releaseMover = resolve));
    let fenced = false;
    const mover = pool.transaction(async (tx) => {
      await tx.run([{ sql: `UPDATE shard_buckets SET state = 'FENCED', fenced_until = NOW(3) + INTERVAL 10 SECOND WHERE bucket = 9` }]);
      fenced = true;
      await moverMayCommit;
      await tx.commitWith([]);
    });
    await waitFor(async () => fenced, 'the mover holding the row');
    const id = ++nextId;
    let writerSettled = false;
    const writer = fencedInsert(pool, 9, 1, id).then(
      () => ((writerSettled = true), undefined),
      (e: unknown) => ((writerSettled = true), e),
    );
    await sleep(300);
    expect(writerSettled).toBe(false);
    releaseMover();
    await mover;
    expect(isFenceRejection(await writer)).toBe(true);
    expect(await written(id)).toBe(false);
  });
});
