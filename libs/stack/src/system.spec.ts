import { parseShardMap } from '@orderflow/sharding';
import { stackInfo } from './stack';
import { DEV_PORTS, shardLayout, systemEnv } from './system';

describe('the shard lists a system is started with', () => {
  const dev3 = stackInfo('dev', 1, 3);

  it('when two servers are used (the default), then four shards per set alternate between them, and no map is pinned', () => {
    const env = systemEnv(dev3, DEV_PORTS);
    expect(env.ORDER_SHARDS).toBe(
      '127.0.0.1:13306/orderflow_orders_0,127.0.0.1:13307/orderflow_orders_1,127.0.0.1:13306/orderflow_orders_2,127.0.0.1:13307/orderflow_orders_3',
    );
    expect(env.READ_SHARDS).toBe(
      '127.0.0.1:13306/orderflow_read_0,127.0.0.1:13307/orderflow_read_1,127.0.0.1:13306/orderflow_read_2,127.0.0.1:13307/orderflow_read_3',
    );
    expect(env.ORDER_SHARD_MAP).toBeUndefined();
    expect(env.READ_SHARD_MAP).toBeUndefined();
  });

  it('when three servers are used, then each set gets a fifth shard on the third server, and the map is pinned to the first four', () => {
    const env = systemEnv(dev3, DEV_PORTS, '', undefined, [DEV_PORTS], 3);
    expect(env.ORDER_SHARDS!.split(',').slice(4)).toEqual(['127.0.0.1:13308/orderflow_orders_4']);
    expect(env.READ_SHARDS!.split(',').slice(4)).toEqual(['127.0.0.1:13308/orderflow_read_4']);
    expect(env.ORDER_SHARDS!.split(',').slice(0, 4)).toEqual(systemEnv(dev3, DEV_PORTS).ORDER_SHARDS!.split(','));
    for (const [list, map] of [
      ['ORDER_SHARDS', 'ORDER_SHARD_MAP'],
      ['READ_SHARDS', 'READ_SHARD_MAP'],
    ] as const) {
      expect(env[map]).toBe('0-255:0,256-511:1,512-767:2,768-1023:3');
      // The services read the pinned map against their five shards: the fifth holds no bucket.
      const parsed = parseShardMap(env[map]!, env[list]!.split(',').length);
      expect(parsed.ranges().some((r) => r.shard === 4)).toBe(false);
    }
  });

  it('when a tag names the databases, then the extra shard is tagged like the others', () => {
    const env = systemEnv(stackInfo('test', 3, 4), DEV_PORTS, 'move1', undefined, [DEV_PORTS], 4);
    expect(env.ORDER_SHARDS!.split(',').slice(3)).toEqual([
      '127.0.0.1:23307/orderflow_orders_move1_3',
      '127.0.0.1:23308/orderflow_orders_move1_4',
      '127.0.0.1:23309/orderflow_orders_move1_5',
    ]);
  });

  it('when more servers are asked for than the stack has, or fewer than two, then it is refused before anything starts', () => {
    expect(() => shardLayout(stackInfo('dev'), 'orderflow_orders', 3)).toThrow('the shards can use 2 to 2 MariaDB servers of this stack (got 3)');
    expect(() => shardLayout(dev3, 'orderflow_orders', 1)).toThrow('the shards can use 2 to 3 MariaDB servers of this stack (got 1)');
  });
});
