// Order events over NATS JetStream: subject names, the stream, the connection and a de-duplicating publisher.
export { ORDERS_STREAM, ORDER_EVENT_SUBJECT_PREFIX, ORDER_EVENT_KINDS, orderEventSubject, orderEventSubjects } from './subjects';
export type { OrderEventKind } from './subjects';
export { ORDERS_DUPLICATE_WINDOW_MS, ORDERS_MAX_AGE_MS, ORDERS_MAX_BYTES, ordersStream, streamConfig, streamChanges, ensureStream } from './stream';
export type { StreamOptions } from './stream';
export { connectNats, parseServers } from './connection';
export type { NatsConnectionOptions } from './connection';
export { JetStreamPublisher } from './publisher';
export type { EventPublisher, PublishAck, JetStreamPublisherOptions } from './publisher';
