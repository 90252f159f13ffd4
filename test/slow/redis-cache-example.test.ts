/**
 * examples/redis-cache runs as its README says: `start.mjs --demo` starts a
 * redis-server and two instances on free ports, shows B serving A's
 * rendering from Redis, purges on A, and sees B render again.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../helpers.ts';
import { freePort } from '../free-port.ts';

test('examples/redis-cache: a shared hit and a purge across two instances', { timeout: 110_000 }, async () => {
  const [redisPort, a, b] = [await freePort(), await freePort(), await freePort()];
  const child = spawn(process.execPath, [join(repoRoot, 'examples', 'redis-cache', 'start.mjs'), '--demo'], {
    env: { ...process.env, REDIS_PORT: String(redisPort), PORT_A: String(a), PORT_B: String(b) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 0, out);
  assert.match(out, /GET B \/products\/mug → rendered by instance A/);
  assert.match(out, /POST A \/_atoll\/cache\/purge\?tag=product:mug → 200 \{"tags":\["product:mug"\],"purged":1\}/);
  assert.match(out, /GET B \/products\/mug → rendered by instance B/);
});
