import type { SqlPool } from '@orderflow/database';
import { FENCE_LIST_MESSAGE, fenceManyStatement, fenceStatement, isFenceRejection } from '../src';
import { setBucket, ShardSet, shardSet, sleep, waitFor } from './support';

/** A write to several buckets: ONE fence statement for all of them, then an insert per bucket, one transaction. */
const fencedInsert = (pool: SqlPool, buckets: number[], version: number, id: number) =>
  pool.transaction((tx) =>
    tx.commitWith([
      fenceManyStatement(buckets, version),
      ...buckets.map((bucket, i) => ({ sql: 'INSERT INTO writes (id, bucket) VALUES (?, ?)', values: [id * 100 + i, bucket] })),
    ]),
  );

const settled = <T>(promise: Promise<T>) =>
  promise.then(
    () => undefined,
    (e: unknown) => e,
  );

describe('orderflow_fence_many on a shard (real MariaDB)', () => {
  let set: ShardSet;
  let pool: SqlPool;
  let nextId = 0;
  const written = async (id: number) => (await set.rows<{ id: string }>(0, 'SELECT id FROM writes WHERE id DIV 100 = ?', [id])).length;

  beforeAll(async () => {
    set = await shardSet(1);
    pool = set.pools[0]!;
    for (const bucket of [10, 11, 12, 13, 14]) await setBucket(set, 0, bucket, 3, 'OWNED');
  });
  afterAll(() => set?.drop());

  async function expectRefused(buckets: number[], version: number): Promise<void> {
    const id = ++nextId;
    const error = await settled(fencedInsert(pool, buckets, version, id));
    expect(isFenceRejection(error)).toBe(true);
    expect(await written(id)).toBe(0);
  }

  async function expectPasses(buckets: number[], version: number): Promise<void> {
    const id = ++nextId;
    await fencedInsert(pool, buckets, version, id);
    expect(await written(id)).toBe(buckets.length);
  }

  it('when the shard owns every listed bucket at the routed version or an earlier one, then the write passes (a bucket listed twice too)', async () => {
    await expectPasses([10, 11, 12], 3);
    await expectPasses([12, 10], 9);
    await expectPasses([13], 3);
    const id = ++nextId;
    await pool.transaction((tx) =>
      tx.commitWith([
        { sql: 'CALL orderflow_fence_many(?, ?)', values: ['[14, 10, 14]', 3] },
        { sql: 'INSERT INTO writes (id, bucket) VALUES (?, 14)', values: [id * 100] },
      ]),
    );
    expect(await written(id)).toBe(1);
  });

  it('when one listed bucket is not held, MOVED, FENCED with a live lease or got at a newer version, then the whole write is refused', async () => {
    await expectRefused([10, 999], 3);
    await setBucket(set, 0, 20, 2, 'MOVED');
    await expectRefused([10, 20], 5);
    await setBucket(set, 0, 21, 1, 'FENCED', 10_000);
    await expectRefused([21, 11], 3);
    await setBucket(set, 0, 22, 7, 'OWNED');
    await expectRefused([10, 11, 22], 6);
    await expectPasses([10, 11, 22], 7);
    // A lapsed lease lets writes through, as orderflow_fence does.
    await setBucket(set, 0, 23, 1, 'FENCED', -1);
    await expectPasses([23, 12], 3);
  });

  it('when it refuses or passes, then it decides as orderflow_fence called once per bucket would', async () => {
    await setBucket(set, 0, 30, 4, 'OWNED');
    await setBucket(set, 0, 31, 4, 'FENCED', 10_000);
    await setBucket(set, 0, 32, 2, 'MOVED');
    const lists = [[30], [31], [32], [33], [30, 12], [30, 31], [30, 32], [30, 33], [10, 11, 12, 13, 30]];
    for (const version of [3, 4, 5]) {
      for (const buckets of lists) {
        const many = await settled(pool.transaction((tx) => tx.commitWith([fenceManyStatement(buckets, version)])));
        const each = await settled(pool.transaction((tx) => tx.commitWith(buckets.map((bucket) => fenceStatement(bucket, version)))));
        expect({ buckets, version, refused: isFenceRejection(many) }).toEqual({ buckets, version, refused: isFenceRejection(each) });
      }
    }
  });

  it.each([['[]'], ['5'], ['[10, "x"]'], ['[10, 1.5]'], ['[10, -1]'], ['[10, null]'], ['[10, 70000]']])(
    'when the list is %s, then it is refused as a malformed list, not as a fence refusal',
    async (list) => {
      const error = await settled(pool.run([{ sql: 'CALL orderflow_fence_many(?, ?)', values: [list, 3] }]));
      expect(String((error as Error | undefined)?.message)).toContain(FENCE_LIST_MESSAGE);
      expect(isFenceRejection(error)).toBe(false);
    },
  );

  it('when a writer has passed the fence, then a mover fencing one of its buckets waits for it to commit, and a bucket it did not list is not locked', async () => {
    for (const bucket of [40, 41, 42]) await setBucket(set, 0, bucket, 1, 'OWNED');
    const order: string[] = [];
    let releaseWriter = () => undefined as void;
    const writerMayCommit = new Promise<void>((resolve) => (releaseWriter = resolve));
    const writer = pool.transaction(async (tx) => {
      await tx.run([fenceManyStatement([40, 41], 1)]);
      order.push('writer passed the fence');
      await writerMayCommit;
      order.push('writer commits');
      await tx.commitWith([]);
    });
    await waitFor(async () => order.length === 1, 'the writer past the fence');
    // Bucket 42 is not in the writer's list: a mover takes it at once.
    await set.exec(0, `UPDATE shard_buckets SET state = 'FENCED', fenced_until = NOW(3) + INTERVAL 10 SECOND WHERE bucket = 42`);
    const mover = (async () => {
      await set.exec(0, `UPDATE shard_buckets SET state = 'FENCED', fenced_until = NOW(3) + INTERVAL 10 SECOND WHERE bucket = 41`);
      order.push('mover fenced the bucket');
    })();
    await sleep(400);
    expect(order).toEqual(['writer passed the fence']);
    releaseWriter();
    await Promise.all([writer, mover]);
    expect(order).toEqual(['writer passed the fence', 'writer commits', 'mover fenced the bucket']);
    await expectRefused([40, 41], 1);
    await expectRefused([42], 1);
    await expectPasses([40], 1);
  });

  it('when a mover holds a listed bucket row (not yet committed), then the writer waits for it and is then refused', async () => {
    for (const bucket of [50, 51]) await setBucket(set, 0, bucket, 1, 'OWNED');
    let releaseMover = () => undefined as void;
    const moverMayCommit = new Promise<void>((resolve) => (releaseMover = resolve));
    let fenced = false;
    const mover = pool.transaction(async (tx) => {
      await tx.run([{ sql: `UPDATE shard_buckets SET state = 'FENCED', fenced_until = NOW(3) + INTERVAL 10 SECOND WHERE bucket = 51` }]);
      fenced = true;
      await moverMayCommit;
      await tx.commitWith([]);
    });
    await waitFor(async () => fenced, 'the mover holding the row');
    const id = ++nextId;
    let writerSettled = false;
    const writer = settled(fencedInsert(pool, [50, 51], 1, id)).then((e) => ((writerSettled = true), e));
    await sleep(300);
    expect(writerSettled).toBe(false);
    releaseMover();
    await mover;
    expect(isFenceRejection(await writer)).toBe(true);
    expect(await written(id)).toBe(0);
  });
});
