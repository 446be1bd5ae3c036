import { isDatabaseUnavailable } from '@orderflow/database';
import { DependencyUnavailableError, InventoryError } from '../../domain/errors';
import type { InventoryStore } from '../../domain/ports';

/** Turns driver failures into the domain's "unavailable" error: fail closed, nothing changed. */
export function guardStore(store: InventoryStore): InventoryStore {
  const guarded = {} as Record<string, unknown>;
  for (const method of Object.getOwnPropertyNames(Object.getPrototypeOf(store)) as (keyof InventoryStore)[]) {
    const fn = store[method];
    if (typeof fn !== 'function' || (method as string) === 'constructor') continue;
    guarded[method] = async (...args: unknown[]) => {
      try {
        return await (fn as (...a: unknown[]) => Promise<unknown>).apply(store, args);
      } catch (error) {
        if (!(error instanceof InventoryError) && isDatabaseUnavailable(error)) throw new DependencyUnavailableError('mysql', error);
        throw error;
      }
    };
  }
  return guarded as unknown as InventoryStore;
}
