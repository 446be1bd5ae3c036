// orderflow.order.v1: one namespace over its three generated files.
export * from './generated/orderflow/order/v1/order';
export * from './generated/orderflow/order/v1/order_command_service';
export * from './generated/orderflow/order/v1/events';
