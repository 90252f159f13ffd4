/**
 * The testing kit is built on Atoll's public surface alone: every module of
 * testing/ imports only the package entry (ssr-server/index.ts), the island
 * protocol (islands/protocol.ts), its own modules and packages — never an
 * engine module. (Issue 12: it used to import eight internal ones.)
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestRunnerPlugin } from '@web/test-runner';
import { atollTestPlugin } from '../../testing/index.ts';
import { repoRoot } from '../helpers.ts';

const ALLOWED = new Set(['../ssr-server/index.ts', '../islands/protocol.ts']);

/** Every module specifier in `source`: static imports and exports, `import type`, dynamic `import('…')`. */
export function specifiers(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const found: string[] = [];
  for (const m of code.matchAll(/\b(?:import|export)\s[^'";]*?\bfrom\s*(['"])([^'"]+)\1/g)) found.push(m[2]!);
  for (const m of code.matchAll(/\bimport\s*(['"])([^'"]+)\1/g)) found.push(m[2]!);
  for (const m of code.matchAll(/\bimport\s*\(\s*(['"`])([^'"`]+)\1\s*\)/g)) found.push(m[2]!);
  return found;
}

test('the scanner finds every kind of import (so the check below can fail)', () => {
  const sample = [
    "import { a } from '../ssr-server/render/page.ts';",
    "import type { B } from \"../ssr-server/site/load.ts\";",
    "export { c } from './x.ts';",
    "import '../ssr-server/side-effect.ts';",
    'const d = await import(`../ssr-server/build/build.ts`);',
    "import {\n  e,\n  f,\n} from '../ssr-server/errors.ts';",
  ].join('\n');
  assert.deepEqual(specifiers(sample).sort(), [
    '../ssr-server/build/build.ts',
    '../ssr-server/errors.ts',
    '../ssr-server/render/page.ts',
    '../ssr-server/side-effect.ts',
    '../ssr-server/site/load.ts',
    './x.ts',
  ]);
});

test('testing/*.ts imports only the package entry, the island protocol, its own modules and packages', () => {
  const dir = join(repoRoot, 'testing');
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
  assert.ok(files.includes('render.ts') && files.includes('document.ts'), 'the kit is where this test looks');
  const bad: string[] = [];
  for (const file of files) {
    for (const spec of specifiers(readFileSync(join(dir, file), 'utf8'))) {
      if (ALLOWED.has(spec)) continue;
      if (spec.startsWith('./') && !spec.includes('/', 2)) continue; // a sibling in testing/
      if (!spec.startsWith('.') && !spec.startsWith('/')) continue; // a package
      bad.push(`testing/${file}: ${spec}`);
    }
  }
  assert.deepEqual(bad, [], 'the kit reaches into the engine');
});

test("atollTestPlugin is a web-test-runner plugin, typed without web-test-runner's or koa's packages", () => {
  // The assignment is the check (npm run typecheck): the kit declares the plugin's shape itself.
  const plugin: TestRunnerPlugin = atollTestPlugin({ root: 'test/fixtures/testing', name: 'typed' });
  assert.equal(plugin.name, 'atoll-test:typed');
  const kit = ['index.ts', 'render.ts', 'document.ts', 'wtr-plugin.ts', 'protocol.ts'];
  const node = kit.flatMap((f) => specifiers(readFileSync(join(repoRoot, 'testing', f), 'utf8')));
  assert.deepEqual(node.filter((s) => s === 'koa' || s.startsWith('@web/')), [], "the Node side's types need no web-test-runner package");
});
