import { orderStatusToProto, orderV1 } from '@orderflow/proto';
import type { ChangedBy, OrderHistoryEntry } from '../domain/model';

// An order itself goes to the wire through libs/proto's orderToProto; its history entries, order-command's alone, here.

const ACTOR_KIND_TO_PROTO: Record<ChangedBy['kind'], orderV1.ActorKind> = {
  CUSTOMER: orderV1.ActorKind.ACTOR_KIND_CUSTOMER,
  ADMIN: orderV1.ActorKind.ACTOR_KIND_ADMIN,
  SYSTEM: orderV1.ActorKind.ACTOR_KIND_SYSTEM,
};

export function toProtoHistoryEntry(entry: OrderHistoryEntry): orderV1.OrderHistoryEntry {
  return {
    version: entry.version,
    status: orderStatusToProto(entry.status),
    occurredAt: entry.occurredAt,
    actorKind: ACTOR_KIND_TO_PROTO[entry.changedBy.kind] ?? orderV1.ActorKind.ACTOR_KIND_UNSPECIFIED,
    actorId: entry.changedBy.id ?? '',
    reason: entry.reason,
  };
}
