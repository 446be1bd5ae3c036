import { bucketForCustomer, isValidOrderId, OrderIdGenerator } from '@orderflow/sharding';
import type { OrderIdSource } from '../domain/ports';

/** Time-ordered 64-bit ids in the customer's bucket (libs/sharding). */
export class ShardedOrderIds implements OrderIdSource {
  private readonly generator = new OrderIdGenerator();

  next(customerId: string): string {
    return this.generator.next(bucketForCustomer(customerId));
  }

  isValid(orderId: string): boolean {
    return isValidOrderId(orderId);
  }
}
