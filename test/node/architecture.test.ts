/**
 * The rules in docs/architecture.md that a grep can check: the core
 * (render/, layout/, the dispatcher and its endpoints) imports no transport
 * and no HTTP client, and the wire types live in a leaf module.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../helpers.ts';

const server = join(repoRoot, 'ssr-server');
const imports = (file: string): string[] =>
  [...readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1]!);
const tsFiles = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => join(dir, f));

const core = [
  ...tsFiles(join(server, 'render')),
  ...tsFiles(join(server, 'layout')),
  ...['handle.ts', 'endpoint.ts', 'engine.ts', 'wire.ts', 'page-endpoint.ts', 'fragment.ts', 'header-values.ts'].map((f) => join(server, f)),
];

test('the core imports no transport and no HTTP client', () => {
  for (const file of core) {
    for (const spec of imports(file)) {
      assert.ok(!/^(node:)?(http|https|http2|net|tls)$/.test(spec), `${file} imports ${spec}`);
      assert.ok(!/^undici/.test(spec), `${file} imports ${spec}: pass the remote fetcher in instead`);
      assert.ok(!/^ioredis/.test(spec) && !spec.includes('/cache/redis'), `${file} imports ${spec}: the render cache's Redis store is passed in by createAtoll`);
      assert.ok(!spec.includes('/adapters/') && !spec.includes('/remote/client'), `${file} imports ${spec}`);
    }
  }
});

test('the wire types are a leaf: wire.ts imports only types of the output form', () => {
  assert.deepEqual(imports(join(server, 'wire.ts')), ['./render/chunks.ts']);
  assert.match(readFileSync(join(server, 'wire.ts'), 'utf8'), /import type \{ Output \} from '\.\/render\/chunks\.ts'/);
});

test('endpoints do not import the dispatcher (no import circle)', () => {
  for (const f of ['fragment.ts', 'page-endpoint.ts', 'embed/index.ts', 'assets/store.ts']) {
    assert.ok(!imports(join(server, f)).some((s) => s.endsWith('/handle.ts') || s === './handle.ts'), `${f} imports handle.ts`);
  }
});
