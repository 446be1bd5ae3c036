import mysql from 'mysql2/promise';
import { percentile } from './stats';

export interface RawResult {
  name: string;
  concurrency: number;
  /** Operations completed in the run. */
  operations: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

export interface MysqlTarget {
  host: string;
  port: number;
  user: string;
  password: string;
}

/** `concurrency` closed-loop workers calling `op` for `seconds`. */
async function loop(name: string, concurrency: number, seconds: number, op: () => Promise<unknown>): Promise<RawResult> {
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        await op();
        latencies.push(performance.now() - t0);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  return {
    name,
    concurrency,
    operations: latencies.length,
    perSecond: latencies.length / ((performance.now() - started) / 1000),
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}

async function freshDatabase(target: MysqlTarget, database: string): Promise<mysql.Pool> {
  const admin = await mysql.createConnection(target);
  await admin.query(`DROP DATABASE IF EXISTS \`${database}\``);
  await admin.query(`CREATE DATABASE \`${database}\``);
  await admin.end();
  return mysql.createPool({ ...target, database, connectionLimit: 300 });
}

/** This machine's limit for the hot-product write: a plain conditional UPDATE on one row. */
export async function rawSingleRowUpdate(target: MysqlTarget, concurrency: number, seconds: number): Promise<RawResult> {
  const pool = await freshDatabase(target, 'orderflow_bench_raw_update');
  await pool.query('CREATE TABLE stock (id INT PRIMARY KEY, available BIGINT NOT NULL) ENGINE=InnoDB');
  await pool.query('INSERT INTO stock VALUES (1, 1000000000)');
  const result = await loop('raw conditional UPDATE, one row', concurrency, seconds, () =>
    pool.execute('UPDATE stock SET available = available - 1 WHERE id = 1 AND available >= 1'),
  );
  await pool.query('DROP DATABASE orderflow_bench_raw_update');
  await pool.end();
  return result;
}

/**
 * This machine's limit for writing an order: one transaction with the order, 3 items and the outbox
 * row, one statement each, spread over two databases on the two MariaDB servers (as the shards are).
 */
export async function rawOrderTransaction(targets: MysqlTarget[], concurrency: number, seconds: number): Promise<RawResult> {
  const pools = await Promise.all(targets.map((t, i) => freshDatabase(t, `orderflow_bench_raw_orders_${i}`)));
  for (const pool of pools) {
    await pool.query(
      'CREATE TABLE orders (id BIGINT UNSIGNED PRIMARY KEY, customer_id VARCHAR(64), status VARCHAR(16), total_minor BIGINT, address VARCHAR(500), ' +
        'payment_method VARCHAR(32), version INT, created_at DATETIME(3), updated_at DATETIME(3), expires_at DATETIME(3), KEY (customer_id, id)) ENGINE=InnoDB',
    );
    await pool.query(
      'CREATE TABLE order_items (order_id BIGINT UNSIGNED, line_no SMALLINT, product_id VARCHAR(64), quantity INT, unit_price_minor BIGINT, ' +
        'PRIMARY KEY (order_id, line_no)) ENGINE=InnoDB',
    );
    await pool.query(
      'CREATE TABLE outbox (id BIGINT AUTO_INCREMENT PRIMARY KEY, event_id CHAR(36), order_id BIGINT UNSIGNED, subject VARCHAR(128), payload MEDIUMBLOB, ' +
        'created_at DATETIME(3), sent_at DATETIME(3) NULL, UNIQUE KEY (event_id), KEY (sent_at, id)) ENGINE=InnoDB',
    );
  }
  let id = Date.now() * 1000;
  const payload = Buffer.alloc(400, 7);
  const result = await loop('raw order transaction (order + 3 items + outbox)', concurrency, seconds, async () => {
    const orderId = ++id;
    const connection = await pools[orderId % pools.length]!.getConnection();
    try {
      await connection.query('START TRANSACTION');
      await connection.execute("INSERT INTO orders VALUES (?, 'bench', 'RESERVED', 3000, 'A', 'card', 1, NOW(3), NOW(3), NOW(3))", [orderId]);
      for (let line = 1; line <= 3; line++) await connection.execute('INSERT INTO order_items VALUES (?, ?, ?, 1, 1000)', [orderId, line, `p${line}`]);
      await connection.execute("INSERT INTO outbox (event_id, order_id, subject, payload, created_at) VALUES (UUID(), ?, 'orders.v1.placed', ?, NOW(3))", [
        orderId,
        payload,
      ]);
      await connection.query('COMMIT');
    } finally {
      connection.release();
    }
  });
  for (const [i, pool] of pools.entries()) {
    await pool.query(`DROP DATABASE orderflow_bench_raw_orders_${i}`);
    await pool.end();
  }
  return result;
}
