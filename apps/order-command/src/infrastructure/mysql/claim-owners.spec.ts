import { claimOwnerLockName, newInstanceId } from './claim-owners';

describe('claim owner lock names', () => {
  it('when shards share a MariaDB server, then each shard has its own lock name for one instance', () => {
    const id = newInstanceId();
    const names = [0, 1, 2, 3].map((shard) => claimOwnerLockName(shard, id));
    expect(new Set(names).size).toBe(4);
    expect(names[2]).toBe(`orderflow.claim-owner.2.${id}`);
  });

  it("when the instance id is as long as the column allows (32) on shard 9999, then the name still fits MariaDB's 64 characters", () => {
    expect(claimOwnerLockName(9999, 'x'.repeat(32)).length).toBeLessThanOrEqual(64);
    expect(() => claimOwnerLockName(0, 'x'.repeat(64))).toThrow(/longer than 64/);
  });

  it('when instance ids are drawn, then they are 16 hex characters and differ', () => {
    const ids = Array.from({ length: 100 }, newInstanceId);
    expect(ids.every((id) => /^[0-9a-f]{16}$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(100);
  });
});
