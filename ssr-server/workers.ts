/**
 * `atoll serve --workers N`: the server is stateless, so scaling to every
 * core is N copies of it behind one port (node:cluster). The primary checks
 * the site and runs the client build once, then forks the workers, restarts
 * one that dies (at most once a second), and stops them all on SIGINT or
 * SIGTERM.
 */
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';

/** Parses `--workers` (`auto` = one per core); undefined when it is not a count. */
export function workerCount(value: string | undefined): number | undefined {
  if (value === undefined) return 1;
  if (value === 'auto') return availableParallelism();
  const n = Number(value);
  return Number.isInteger(n) && n >= 1 && n <= 256 ? n : undefined;
}

/** True in a process forked by {@link runPrimary}. */
export const isWorker = (): boolean => cluster.isWorker;

/**
 * Runs the primary: forks `count` workers running the same command line,
 * prints the address once the first one listens, and resolves when all
 * have stopped after a signal.
 */
export function runPrimary(count: number, describe: (address: string) => string): Promise<void> {
  let stopping = false;
  let announced = false;
  let lastRestart = 0;
  cluster.on('listening', (_worker, address) => {
    if (announced) return;
    announced = true;
    const host = address.address === undefined || address.address === null ? '127.0.0.1' : address.address;
    const shown = host.includes(':') ? `[${host}]` : host;
    process.stdout.write(`${describe(`http://${shown}:${address.port}`)} (${count} workers)\n`);
  });
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    process.stderr.write(`atoll serve: worker ${worker.process.pid} stopped (${signal ?? code}); starting another\n`);
    const wait = Math.max(0, lastRestart + 1000 - Date.now());
    lastRestart = Date.now() + wait;
    setTimeout(() => cluster.fork(), wait).unref();
  });
  for (let i = 0; i < count; i++) cluster.fork();
  return new Promise((resolve) => {
    const stop = (): void => {
      stopping = true;
      const workers = Object.values(cluster.workers ?? {});
      let left = workers.length;
      if (left === 0) resolve();
      for (const w of workers) {
        w?.once('exit', () => {
          if (--left === 0) resolve();
        });
        w?.kill('SIGTERM');
      }
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
