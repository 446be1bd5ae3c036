import { nanos, RetentionPolicy, StorageType, StreamConfig } from 'nats';
import { ORDERS_DUPLICATE_WINDOW_MS, ORDERS_MAX_AGE_MS, ORDERS_MAX_BYTES, ordersStream, streamChanges, streamConfig, StreamOptions } from './stream';

const base: StreamOptions = { name: 'ORDERS_T', subjects: ['t.orders.v1.>'], duplicateWindowMs: 60_000 };

describe('stream configuration', () => {
  it('when the ORDERS defaults are asked for, then the stream takes every v1 order subject with a two-hour duplicate window', () => {
    expect(ordersStream()).toEqual({ name: 'ORDERS', subjects: ['orders.v1.>'], duplicateWindowMs: 2 * 60 * 60 * 1000 });
    expect(ORDERS_DUPLICATE_WINDOW_MS).toBe(7_200_000);
    expect(ordersStream({ prefix: 'x.orders.v1', name: 'ORDERS_X', replicas: 3 })).toEqual({
      name: 'ORDERS_X',
      subjects: ['x.orders.v1.>'],
      duplicateWindowMs: ORDERS_DUPLICATE_WINDOW_MS,
      replicas: 3,
    });
  });

  it('when options are valid, then the config is file storage with limits retention and the windows in nanoseconds', () => {
    expect(streamConfig({ ...base, maxAgeMs: 120_000, maxBytes: 1_000_000 })).toEqual({
      name: 'ORDERS_T',
      subjects: ['t.orders.v1.>'],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: 'old',
      duplicate_window: 60_000_000_000,
      max_age: 120_000_000_000,
      max_bytes: 1_000_000,
      num_replicas: 1,
    });
    expect(streamConfig(base).max_age).toBe(0);
    expect(streamConfig(base).max_bytes).toBe(-1);
  });

  it('when the ORDERS bounds are asked for, then they keep a week and at most 1 GiB', () => {
    expect(ORDERS_MAX_AGE_MS).toBe(604_800_000);
    expect(ORDERS_MAX_BYTES).toBe(1_073_741_824);
    expect(streamConfig({ ...base, maxAgeMs: ORDERS_MAX_AGE_MS, maxBytes: ORDERS_MAX_BYTES })).toMatchObject({
      max_age: 604_800_000_000_000,
      max_bytes: 1_073_741_824,
    });
  });

  it.each<[string, Partial<StreamOptions>, RegExp]>([
    ['a dotted name', { name: 'ORDERS.V1' }, /invalid stream name/],
    ['a wildcard name', { name: 'ORDERS*' }, /invalid stream name/],
    ['no subjects', { subjects: [] }, /at least one subject/],
    ['a blank subject', { subjects: [' '] }, /at least one subject/],
    ['a zero duplicate window', { duplicateWindowMs: 0 }, /duplicateWindowMs must be a positive integer/],
    ['a fractional duplicate window', { duplicateWindowMs: 1.5 }, /duplicateWindowMs must be a positive integer/],
    ['a negative max age', { maxAgeMs: -1 }, /maxAgeMs must be a non-negative integer/],
    ['a max age shorter than the duplicate window', { maxAgeMs: 30_000 }, /must be at least duplicateWindowMs/],
    ['zero max bytes', { maxBytes: 0 }, /maxBytes must be -1 \(no limit\) or a positive integer/],
    ['fractional max bytes', { maxBytes: 10.5 }, /maxBytes must be -1/],
    ['zero replicas', { replicas: 0 }, /replicas must be 1 to 5/],
  ])('when the options have %s, then they are refused', (_, override, message) => {
    expect(() => streamConfig({ ...base, ...override })).toThrow(message);
  });

  describe('comparing with an existing stream', () => {
    const wanted = streamConfig(base);
    const current = (override: Partial<StreamConfig> = {}) => ({ ...wanted, max_msgs: -1, sealed: false, ...override }) as StreamConfig;

    it('when it already has these settings (subjects in another order), then nothing changes', () => {
      const two = streamConfig({ ...base, subjects: ['a.>', 'b.>'] });
      expect(streamChanges(current(), wanted)).toEqual([]);
      expect(streamChanges({ ...current(), subjects: ['b.>', 'a.>'] }, two)).toEqual([]);
    });

    it('when the subjects or windows differ, then those are the changes', () => {
      expect(streamChanges(current({ subjects: ['old.>'], duplicate_window: nanos(120_000) }), wanted)).toEqual(['subjects', 'duplicate_window']);
      expect(streamChanges(current({ max_age: nanos(1) }), wanted)).toEqual(['max_age']);
      expect(streamChanges(current({ max_bytes: 1024 }), wanted)).toEqual(['max_bytes']);
    });

    it('when storage or retention differ, then it refuses instead of pretending to update', () => {
      expect(() => streamChanges(current({ storage: StorageType.Memory }), wanted)).toThrow(/storage "memory", wanted "file"/);
      expect(() => streamChanges(current({ retention: RetentionPolicy.Workqueue }), wanted)).toThrow(/retention/);
    });
  });
});
