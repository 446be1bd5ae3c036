/**
 * The shard lists `npm start`'s dev stack uses (ORDER_SHARDS, READ_SHARDS): four databases of each set
 * spread over the two dev MariaDB servers. The services' configuration and `npm run shards` default to
 * them, so both always agree.
 */
export const DEV_ORDER_SHARDS = [
  '127.0.0.1:13306/orderflow_orders_0',
  '127.0.0.1:13307/orderflow_orders_1',
  '127.0.0.1:13306/orderflow_orders_2',
  '127.0.0.1:13307/orderflow_orders_3',
].join(',');

export const DEV_READ_SHARDS = [
  '127.0.0.1:13306/orderflow_read_0',
  '127.0.0.1:13307/orderflow_read_1',
  '127.0.0.1:13306/orderflow_read_2',
  '127.0.0.1:13307/orderflow_read_3',
].join(',');
