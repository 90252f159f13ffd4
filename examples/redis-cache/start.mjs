#!/usr/bin/env node
/**
 * Starts a redis-server on 127.0.0.1 (Debian's `redis-server`, no
 * persistence) and two Atoll instances of this site that share it:
 * A on http://127.0.0.1:3101 and B on http://127.0.0.1:3102.
 *
 *   node examples/redis-cache/start.mjs          # run until Ctrl-C
 *   node examples/redis-cache/start.mjs --demo   # show a shared hit and a purge, then stop
 *
 * Environment: REDIS_SERVER (default /usr/bin/redis-server), REDIS_PORT
 * (6390), PORT_A (3101), PORT_B (3102), ATOLL_PURGE_TOKEN (a demo token).
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const atoll = join(here, '..', '..', 'bin', 'atoll.mjs');
const redisServer = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';
const redisPort = Number(process.env.REDIS_PORT ?? 6390);
const ports = { A: Number(process.env.PORT_A ?? 3101), B: Number(process.env.PORT_B ?? 3102) };
const token = process.env.ATOLL_PURGE_TOKEN ?? 'example-purge-token-change-me';
const demo = process.argv.includes('--demo');
const children = [];

function run(name, command, args, env = {}) {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream.on('data', (d) => {
      const lines = (rest + d).split('\n');
      rest = lines.pop();
      for (const line of lines) if (!demo || /"level":"(warn|error)"|Redis/.test(line)) process.stdout.write(`[${name}] ${line}\n`);
    });
  }
  child.on('exit', (code, signal) => {
    if (!stopping && name === 'redis') {
      console.error(`[redis] exited (${signal ?? code}); the instances keep serving, without the shared layer until Redis is back:\n        ${redisServer} --port ${redisPort} --bind 127.0.0.1 --save '' --appendonly no`);
    } else if (!stopping) {
      console.error(`[${name}] exited (${signal ?? code}); stopping the others`);
      stop(1);
    }
  });
  return child;
}

let stopping = false;
function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  setTimeout(() => process.exit(code), 1500).unref();
  Promise.all(children.map((c) => (c.exitCode !== null ? undefined : new Promise((r) => c.once('exit', r))))).then(() => process.exit(code));
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

/** Resolves when `check()` is true, polling. */
async function until(check, what, ms = 30_000) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
const pong = () =>
  new Promise((resolve) => {
    const s = connect(redisPort, '127.0.0.1');
    s.on('error', () => resolve(false));
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => {
      s.destroy();
      resolve(String(d).startsWith('+PONG'));
    });
  });
const ready = (port) =>
  fetch(`http://127.0.0.1:${port}/_atoll/health`).then((r) => r.json(), () => ({})).then((h) => h.status === 'ready', () => false);

async function main() {
  run('redis', redisServer, ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning']);
  await until(pong, `redis-server on 127.0.0.1:${redisPort}`);
  // Build once, then both instances serve that build (two builds at once would race for one folder).
  await new Promise((resolve, reject) => {
    const b = spawn(process.execPath, [atoll, 'build', '--root', here], { stdio: demo ? 'ignore' : 'inherit' });
    b.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`atoll build exited with ${code}`))));
  });
  const env = { ATOLL_REDIS_URL: `redis://127.0.0.1:${redisPort}`, ATOLL_PURGE_TOKEN: token };
  for (const [name, port] of Object.entries(ports)) {
    run(name, process.execPath, [atoll, 'serve', '--root', here, '--port', String(port), '--no-build'], { ...env, ATOLL_INSTANCE: name });
  }
  await until(async () => (await ready(ports.A)) && (await ready(ports.B)), 'both instances', 120_000);
  console.log(`
Redis:       redis://127.0.0.1:${redisPort}
Instance A:  http://127.0.0.1:${ports.A}/products/mug
Instance B:  http://127.0.0.1:${ports.B}/products/mug
Purge:       curl -X POST -H 'authorization: Bearer ${token}' 'http://127.0.0.1:${ports.A}/_atoll/cache/purge?tag=product:mug'
`);
  if (!demo) return;
  const line = async (name, port) => {
    const html = (await (await fetch(`http://127.0.0.1:${port}/products/mug`)).text()).replace(/<!--[\s\S]*?-->/g, '');
    const by = /rendered by instance (\w+) at ([\d:.TZ-]+)/.exec(html);
    console.log(`GET ${name} /products/mug → rendered by instance ${by?.[1]} at ${by?.[2]}`);
    return by?.[1];
  };
  const first = await line('A', ports.A);
  await new Promise((r) => setTimeout(r, 200)); // A's write to Redis
  const shared = await line('B', ports.B);
  const res = await fetch(`http://127.0.0.1:${ports.A}/_atoll/cache/purge?tag=product:mug`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  console.log(`POST A /_atoll/cache/purge?tag=product:mug → ${res.status} ${(await res.text()).trim()}`);
  await new Promise((r) => setTimeout(r, 200)); // the purge message reaches B
  const after = await line('B', ports.B);
  const ok = first === 'A' && shared === 'A' && after === 'B';
  console.log(ok ? 'B served A\'s rendering from Redis; after the purge on A, B rendered it again.' : 'unexpected result');
  stop(ok ? 0 : 1);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  stop(1);
});
