/**
 * docs/testing.md works as written: a fresh element in a site folder outside
 * the demo (test/fixtures/testing-guide) consists only of the guide's code
 * blocks, and its SSR (Node) and hydration (Chromium) tests pass when run
 * the way the guide says.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';
import { fixture, repoRoot } from '../helpers.ts';

const guide = readFileSync(join(repoRoot, 'docs', 'testing.md'), 'utf8');
const site = fixture('testing-guide');

/** The guide's code blocks that name a file: path → content. */
const blocks = new Map([...guide.matchAll(/^```\w+ title="([^"]+)"\n([\s\S]*?)^```$/gm)].map((m) => [m[1]!, m[2]!]));

/** Every file of the site folder, relative, except build output. */
function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (name === '.atoll' || name === 'node_modules') return [];
    const full = join(dir, name);
    return statSync(full).isDirectory() ? files(full) : [relative(site, full)];
  });
}

/** Runs a command in the site folder; resolves with its exit code and output. */
function run(command: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    // Without NODE_TEST_CONTEXT, a child `node --test` runs its files instead of deferring to us.
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    // In this checkout, `atoll-ssr` resolves to its TypeScript sources through the
    // `atoll-source` condition (docs/architecture.md, "Package"), as npm scripts set it;
    // an installed package resolves to its compiled dist/ without it.
    const child = spawn(command, args, { cwd: site, env: { ...env, NODE_OPTIONS: '--conditions=atoll-source', NO_COLOR: '1' } });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d));
    child.stderr.on('data', (d: Buffer) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('docs/testing.md', () => {
  test('the guide site holds exactly the files of the guide, each as written there', () => {
    assert.ok(blocks.size >= 5, 'the guide names its files');
    assert.deepEqual(files(site).sort(), [...blocks.keys()].sort());
    for (const [path, content] of blocks) assert.equal(readFileSync(join(site, path), 'utf8'), content, `${path} is the guide's block`);
  });

  test('its Node tests pass, run as the guide says', async () => {
    const { code, output } = await run(process.execPath, ['--import', 'tsx', '--test', join('test', 'node', 'hello-badge.test.ts')]);
    assert.equal(code, 0, output);
    assert.match(output, /# pass 2/);
  });

  test('its browser tests (SSR and hydration, in Chromium) pass, run as the guide says', async () => {
    const wtr = join(repoRoot, 'node_modules', '@web', 'test-runner', 'dist', 'bin.js');
    // The guide's config as written, with one addition for this checkout: the browser side
    // resolves `atoll-ssr/testing/browser` to the sources too (the same condition as above).
    const dir = mkdtempSync(join(tmpdir(), 'atoll-guide-'));
    const config = join(dir, 'web-test-runner.config.mjs');
    writeFileSync(
      config,
      `import config from ${JSON.stringify(pathToFileURL(join(site, 'web-test-runner.config.mjs')).href)};\n` +
        `export default { ...config, nodeResolve: { exportConditions: ['atoll-source'] } };\n`,
    );
    const { code, output } = await run(process.execPath, [wtr, '--config', config]);
    rmSync(dir, { recursive: true, force: true });
    assert.equal(code, 0, output);
    assert.match(output, /4 passed, 0 failed/);
  });
});
