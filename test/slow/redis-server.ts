/**
 * A real redis-server for the Redis cache suites (Debian's package; CI
 * installs it): started on a free port of 127.0.0.1 with no persistence,
 * and stopped, paused or started again on the same port as a test needs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { freePort } from '../free-port.ts';

export const REDIS_SERVER = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';

export interface TestRedis {
  port: number;
  url: string;
  /** Stops the server (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /** SIGSTOP: the connection stays up, nothing answers. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** The server's process id (for CPU figures), while it runs. */
  pid(): number | undefined;
}

/** Starts redis-server on a free port and resolves once it accepts connections. */
export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    const c = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = c;
    // Never outlive the process that started it (a crash, an early exit).
    const reap = (): void => {
      if (c.exitCode === null) c.kill('SIGKILL');
    };
    process.once('exit', reap);
    c.once('exit', () => process.removeListener('exit', reap));
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start on port ${port}: ${out}`)), 10_000);
      const check = async (): Promise<void> => {
        for (;;) {
          if (c.exitCode !== null) {
            clearTimeout(timer);
            reject(new Error(`redis-server exited with ${c.exitCode}: ${out}`));
            return;
          }
          if (await answersPing(port)) {
            clearTimeout(timer);
            resolve();
            return;
          }
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      c.stderr!.on('data', (d: Buffer) => (out += d.toString()));
      void check();
    });
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      const c = child;
      if (c === undefined || c.exitCode !== null) return;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGCONT');
      c.kill('SIGTERM');
      await exited;
    },
    start,
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
    pid: () => child?.pid,
  };
}

/** True when something on `port` answers a Redis PING with PONG. */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    {
      const s = connect(port, '127.0.0.1');
      let got = '';
      s.setTimeout(500, () => {
        s.destroy();
        resolve(false);
      });
      s.on('error', () => resolve(false));
      s.on('connect', () => s.write('PING\r\n'));
      s.on('data', (d) => {
        got += d.toString();
        if (got.includes('\r\n')) {
          s.destroy();
          resolve(got.startsWith('+PONG'));
        }
      });
    }
  });
}
