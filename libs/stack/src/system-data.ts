import mysql from 'mysql2/promise';
import { connect } from 'nats';

/**
 * Drops the databases and streams of a system started under its own tag (`startSystem`'s `tag`), so
 * runs of tests and tools do not pile up on a stack.
 */
export async function dropSystemData(env: Record<string, string>): Promise<void> {
  const databases = [
    ...env.ORDER_SHARDS!.split(','),
    ...env.READ_SHARDS!.split(','),
    `${env.INVENTORY_MYSQL_HOST}:${env.INVENTORY_MYSQL_PORT}/${env.INVENTORY_MYSQL_DATABASE}`,
  ];
  for (const entry of databases) {
    const [, host, port, database] = /^([^:]+):(\d+)\/(.+)$/.exec(entry)!;
    const connection = await mysql.createConnection({ host, port: Number(port), user: 'orderflow', password: 'orderflow' });
    await connection.query(`DROP DATABASE IF EXISTS \`${database}\``).finally(() => connection.end());
  }
  const nc = await connect({ servers: env.NATS_SERVERS!.split(',') });
  const jsm = await nc.jetstreamManager();
  for (const stream of [env.ORDERS_STREAM!, env.DEAD_LETTER_STREAM!]) await jsm.streams.delete(stream).catch(() => undefined);
  await nc.close();
}
