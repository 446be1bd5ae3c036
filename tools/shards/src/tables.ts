/** The two shard sets a map routes: the order shards (order-command) and the read shards (order-query). */
export const SHARD_SETS = ['orders', 'reads'] as const;
export type ShardSetName = (typeof SHARD_SETS)[number];

/**
 * One table a move carries (ADR 0009): every row belongs to one order (`orderIdColumn`), so its bucket is
 * `(order_id >> 12) & 1023`. The copy walks `primaryKey` in order and upserts `columns` on the target.
 */
export interface TableSpec {
  name: string;
  /** The column holding the row's order id (its bucket's source). */
  orderIdColumn: string;
  /** The source's primary key: the copy's cursor, in this order. */
  primaryKey: readonly string[];
  /** Every column of the table, in the table's order. */
  columns: readonly string[];
  /**
   * Columns not carried to the target (the outbox's auto-increment id: the target numbers its own rows;
   * its rows are unique by event_id). Left out of the copy and of the checksums.
   */
  notCopied?: readonly string[];
  /**
   * Columns copied but left out of the checksums: the outbox relay's bookkeeping (what it published), which
   * it writes unfenced, also while a switch verifies. A copy that lags on them at most publishes an event
   * again, and the stream drops it by its event id (the duplicate window).
   */
  notVerified?: readonly string[];
}

/** The columns a move writes on the target. */
export const copiedColumns = (table: TableSpec): string[] => table.columns.filter((column) => !table.notCopied?.includes(column));

/** The columns a move checksums on both sides. */
export const verifiedColumns = (table: TableSpec): string[] => copiedColumns(table).filter((column) => !table.notVerified?.includes(column));

/** What each set moves: every table that holds order data (a test compares this with information_schema). */
export const TABLES: Record<ShardSetName, readonly TableSpec[]> = {
  orders: [
    {
      name: 'orders',
      orderIdColumn: 'id',
      primaryKey: ['id'],
      columns: [
        'id',
        'customer_id',
        'status',
        'total_minor',
        'address',
        'payment_method',
        'version',
        'stock_action',
        'stock_settled_at',
        'created_at',
        'updated_at',
        'expires_at',
      ],
    },
    {
      name: 'order_items',
      orderIdColumn: 'order_id',
      primaryKey: ['order_id', 'line_no'],
      columns: ['order_id', 'line_no', 'product_id', 'quantity', 'unit_price_minor'],
    },
    {
      name: 'order_history',
      orderIdColumn: 'order_id',
      primaryKey: ['order_id', 'version'],
      columns: ['order_id', 'version', 'status', 'event_id', 'occurred_at', 'actor_kind', 'actor_id', 'reason'],
    },
    {
      name: 'idempotency_keys',
      orderIdColumn: 'order_id',
      primaryKey: ['customer_id', 'idempotency_key'],
      columns: ['customer_id', 'idempotency_key', 'fingerprint', 'order_id', 'state', 'owner', 'response', 'created_at', 'updated_at'],
    },
    {
      name: 'outbox',
      orderIdColumn: 'order_id',
      primaryKey: ['id'],
      columns: ['id', 'event_id', 'order_id', 'subject', 'payload', 'created_at', 'sent_at', 'publish_attempts', 'traceparent'],
      notCopied: ['id'],
      notVerified: ['sent_at', 'publish_attempts'],
    },
  ],
  reads: [
    {
      name: 'order_views',
      orderIdColumn: 'order_id',
      primaryKey: ['order_id'],
      columns: [
        'order_id',
        'customer_id',
        'status',
        'total_minor',
        'address',
        'payment_method',
        'version',
        'created_at',
        'updated_at',
        'expires_at',
        'items',
        'last_event_id',
        'event_occurred_at',
        'projected_at',
      ],
    },
    {
      name: 'customer_orders',
      orderIdColumn: 'order_id',
      primaryKey: ['customer_id', 'order_id'],
      columns: ['customer_id', 'order_id', 'status', 'total_minor', 'version', 'created_at'],
    },
  ],
};

/**
 * Tables on a shard that hold no order's data: the control tables of ADR 0009 and the migrations' own
 * bookkeeping. Every other table must be in TABLES (the schema test fails otherwise).
 */
export const NOT_ORDER_DATA = ['schema_migrations', 'SequelizeMeta', 'shard_buckets', 'shard_changes', 'shard_map', 'shard_map_watchers', 'shard_moves'];

/** The table whose row count `status` shows per shard (one row per order). */
export const MAIN_TABLE: Record<ShardSetName, string> = { orders: 'orders', reads: 'order_views' };
