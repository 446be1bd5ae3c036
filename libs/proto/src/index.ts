// Generated contracts (ts-proto, DO NOT EDIT under src/generated) and the descriptors reflection needs.
export * as inventoryV1 from './generated/orderflow/inventory/v1/inventory';
export * as orderV1 from './order-v1';
export { orderFromProto, orderStatusFromProto, orderStatusToProto, orderToProto } from './order-snapshot';
export type { OrderSnapshot, OrderStatusName, UncheckedOrderSnapshot } from './order-snapshot';
export { Timestamp } from './generated/google/protobuf/timestamp';
export { PROTO_ROOT, DESCRIPTOR_SET_PATH, protoFiles, loadPackageDefinition } from './descriptors';
export * as errorDetails from './error-details';
export * as errorContract from './error-contract';
export type { ErrorDetails, ErrorReason } from './error-contract';
export * as orderQueryV1 from './generated/orderflow/order_query/v1/order_query_service';
export { DEFAULT_ORDER_LIMITS, ORDER_LIMIT_CEILINGS, type OrderLimits } from './order-limits';
