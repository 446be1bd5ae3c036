import fs from 'node:fs';
import path from 'node:path';
import { MYSQL_PASSWORD, MYSQL_USER } from './profiles';
import { isAlive, portIsOpen, probe, readPid, run, runningPid, spawnDetached, stopPid, waitFor } from './processes';

export interface ServerStatus {
  name: string;
  port: number;
  pid?: number;
  running: boolean;
}

/** One private server process: data, pid file and log under its own folder. */
export interface Server {
  readonly name: string;
  readonly port: number;
  start(): Promise<'started' | 'already running'>;
  stop(): Promise<void>;
  status(): Promise<ServerStatus>;
  /**
   * From its pid file alone: running; dead (the file names a process that is gone: it crashed or was
   * killed); or stopped (no pid file: never started, or stopped on purpose, which removes it first).
   */
  liveness(): ServerLiveness;
}

export type ServerLiveness = { state: 'running'; pid: number } | { state: 'dead'; pid: number } | { state: 'stopped' };

abstract class LocalServer implements Server {
  protected readonly pidFile: string;
  protected readonly logFile: string;

  constructor(
    readonly name: string,
    readonly port: number,
    protected readonly dir: string,
  ) {
    this.pidFile = path.join(dir, `${name}.pid`);
    this.logFile = path.join(dir, `${name}.log`);
  }

  protected abstract launch(): Promise<void>;
  protected abstract ready(): Promise<boolean>;

  async start(): Promise<'started' | 'already running'> {
    fs.mkdirSync(this.dir, { recursive: true });
    if (runningPid(this.pidFile) !== undefined) {
      await waitFor(this.name, () => this.ready(), 60_000, this.logFile);
      return 'already running';
    }
    if (await portIsOpen(this.port)) {
      throw new Error(`${this.name}: port ${this.port} is taken by a process this stack did not start`);
    }
    // A new log each start (NATS's readiness reads it); the last one is kept, for a crash's evidence.
    if (fs.existsSync(this.logFile)) fs.renameSync(this.logFile, `${this.logFile}.previous`);
    await this.launch();
    await waitFor(this.name, () => this.ready(), 120_000, this.logFile);
    return 'started';
  }

  async stop(): Promise<void> {
    const pid = runningPid(this.pidFile);
    // The pid file goes first: a watcher that sees the process gone then knows it was stopped on purpose.
    fs.rmSync(this.pidFile, { force: true });
    if (pid !== undefined) await stopPid(pid);
  }

  liveness(): ServerLiveness {
    const pid = readPid(this.pidFile);
    if (pid === undefined) return { state: 'stopped' };
    return isAlive(pid) ? { state: 'running', pid } : { state: 'dead', pid };
  }

  async status(): Promise<ServerStatus> {
    const pid = runningPid(this.pidFile);
    return { name: this.name, port: this.port, pid, running: pid !== undefined && (await this.ready().catch(() => false)) };
  }
}

export class MariaDbServer extends LocalServer {
  private readonly dataDir = path.join(this.dir, 'data');
  readonly socket = path.join(this.dir, 'mysqld.sock');

  protected async launch(): Promise<void> {
    const fresh = !fs.existsSync(path.join(this.dataDir, 'mysql'));
    if (fresh) {
      fs.rmSync(this.dataDir, { recursive: true, force: true });
      // --no-defaults must come first, or Debian's /etc/mysql settings apply.
      run('mariadb-install-db', ['--no-defaults', `--datadir=${this.dataDir}`, '--user=root', '--auth-root-authentication-method=normal', '--skip-test-db']);
    }
    spawnDetached(
      'mariadbd',
      [
        '--no-defaults',
        '--user=root',
        `--datadir=${this.dataDir}`,
        `--socket=${this.socket}`,
        `--pid-file=${this.pidFile}`,
        `--port=${this.port}`,
        '--bind-address=127.0.0.1',
        '--skip-name-resolve',
        '--character-set-server=utf8mb4',
        '--collation-server=utf8mb4_unicode_ci',
        '--max-connections=1000',
        // Commits reach the OS at once and the disk within a second: a killed mariadbd loses nothing,
        // only a machine crash could lose the last second. A local-stack trade; production keeps 1.
        '--innodb-flush-log-at-trx-commit=2',
        `--log-error=${this.logFile}`,
      ],
      path.join(this.dir, 'stdout.log'),
      this.pidFile,
    );
    await waitFor(this.name, () => this.socketReady(), 120_000, this.logFile);
    // Under --skip-name-resolve TCP clients are '127.0.0.1', not 'localhost'.
    this.sql(
      `CREATE USER IF NOT EXISTS '${MYSQL_USER}'@'127.0.0.1' IDENTIFIED BY '${MYSQL_PASSWORD}';` +
        `GRANT ALL PRIVILEGES ON *.* TO '${MYSQL_USER}'@'127.0.0.1' WITH GRANT OPTION; FLUSH PRIVILEGES;`,
    );
  }

  private async socketReady(): Promise<boolean> {
    if (!fs.existsSync(this.socket)) return false;
    this.sql('SELECT 1');
    return true;
  }

  private sql(statements: string): string {
    return run('mariadb', ['--no-defaults', `--socket=${this.socket}`, '-uroot', '-N', '-e', statements]);
  }

  protected async ready(): Promise<boolean> {
    // A MySQL server greets first; protocol version 10 is the first byte of the payload.
    const greeting = await probe(this.port);
    return greeting.length > 4 && greeting.charCodeAt(4) === 10;
  }
}

export class RedisServer extends LocalServer {
  protected async launch(): Promise<void> {
    run('redis-server', [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      this.dir,
      '--pidfile',
      this.pidFile,
      '--logfile',
      this.logFile,
      '--daemonize',
      'yes',
    ]);
  }

  protected async ready(): Promise<boolean> {
    return (await probe(this.port, 'PING\r\n')).startsWith('+PONG');
  }
}

export class NatsServer extends LocalServer {
  protected async launch(): Promise<void> {
    spawnDetached(
      'nats-server',
      ['-js', '-sd', path.join(this.dir, 'jetstream'), '-a', '127.0.0.1', '-p', String(this.port), '-P', this.pidFile, '-l', this.logFile],
      path.join(this.dir, 'stdout.log'),
      this.pidFile,
    );
  }

  protected async ready(): Promise<boolean> {
    return (await probe(this.port)).startsWith('INFO ') && fs.readFileSync(this.logFile, 'utf8').includes('Server is ready');
  }
}
