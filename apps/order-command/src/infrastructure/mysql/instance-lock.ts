import type { MysqlTarget } from '@orderflow/database';
import type { Component, Logger } from '@orderflow/service-kit';
import mysql from 'mysql2/promise';

/** A check that takes longer means a connection that is gone without saying so (a half-open socket). */
const CHECK_TIMEOUT_MS = 10_000;

/**
 * A MariaDB named lock held for the life of this process, on a connection of its own. The server frees
 * a named lock as soon as the connection holding it closes (a killed process's sockets close at once),
 * so `IS_USED_LOCK(name) IS NULL`, asked by anyone on that server, means this process is gone.
 *
 * Checked every `checkIntervalMs` (which also keeps the connection from idling out): a lost connection
 * or lock is taken again. `held` is false while it is not (then this process cannot prove it is alive).
 */
export class InstanceLock implements Component {
  readonly name: string;
  private connection?: mysql.Connection;
  private timer?: NodeJS.Timeout;
  private pass?: Promise<void>;
  private stopped = true;
  private isHeld = false;

  constructor(
    private readonly target: MysqlTarget,
    readonly lockName: string,
    private readonly logger: Logger,
    private readonly checkIntervalMs = 1_000,
  ) {
    this.name = `instance-lock ${lockName}`;
  }

  get held(): boolean {
    return this.isHeld;
  }

  /** Takes the lock once (a failure is logged: the checks keep trying), then checks it periodically. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.check();
    this.timer = setInterval(() => void this.check(), this.checkIntervalMs);
    this.timer.unref();
  }

  /** Closing the connection frees the lock. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.pass;
    await this.drop();
  }

  /** One pass at a time: is the lock still ours on a live connection? If not, take it again. */
  check(): Promise<void> {
    this.pass ??= this.ensureHeld().finally(() => {
      this.pass = undefined;
    });
    return this.pass;
  }

  private async ensureHeld(): Promise<void> {
    if (this.stopped) return;
    try {
      if (this.connection) {
        // A generous timeout: giving up on a slow but live connection would free the lock for nothing.
        const [rows] = await this.connection.query<mysql.RowDataPacket[]>({
          sql: 'SELECT IS_USED_LOCK(?) = CONNECTION_ID() AS mine',
          values: [this.lockName],
          timeout: CHECK_TIMEOUT_MS,
        });
        if (Number(rows[0]?.mine) === 1) return;
        this.logger.warn({ lock: this.lockName }, 'instance lock no longer held on its connection; taking it again');
        await this.drop();
      }
      await this.acquire();
    } catch (error) {
      this.logger.warn({ err: error, lock: this.lockName }, 'instance lock not held; claims made meanwhile name no owner');
      await this.drop();
    }
  }

  private async acquire(): Promise<void> {
    const connection = await mysql.createConnection({
      host: this.target.host,
      port: this.target.port,
      user: this.target.user,
      password: this.target.password,
      connectTimeout: 5_000,
      enableKeepAlive: true,
    });
    // A connection that drops (server restart, network) frees the lock: stop claiming to hold it at once.
    const lost = () => {
      if (this.connection !== connection) return;
      this.isHeld = false;
      this.connection = undefined;
      connection.destroy();
      if (!this.stopped) setImmediate(() => void this.check());
    };
    connection.on('error', lost);
    connection.on('end', lost);
    this.connection = connection;
    const [rows] = await connection.query<mysql.RowDataPacket[]>('SELECT GET_LOCK(?, 0) AS acquired', [this.lockName]);
    if (Number(rows[0]?.acquired) !== 1) throw new Error(`named lock "${this.lockName}" is held by another connection`);
    if (this.connection !== connection) throw new Error('the connection dropped while taking the lock');
    this.isHeld = true;
  }

  private async drop(): Promise<void> {
    const connection = this.connection;
    this.isHeld = false;
    this.connection = undefined;
    if (connection) await connection.end().catch(() => connection.destroy());
  }
}
