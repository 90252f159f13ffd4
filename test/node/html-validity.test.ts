/**
 * Rendered pages are valid HTML according to the Nu HTML checker (vnu.jar,
 * from the vnu-jar package; it needs Java, which .ci/run installs when
 * missing).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import vnuJar from 'vnu-jar';
import { createAtoll, silentLogger } from '../../ssr-server/index.ts';
import { fixture, repoRoot } from '../helpers.ts';

const pages: Array<[string, string]> = [
  [repoRoot, '/home'],
  [repoRoot, '/products/stoneware-mug'],
  [repoRoot, '/products/nope'],
  [repoRoot, '/category/audio'],
  [repoRoot, '/settings/profile'],
  [repoRoot, '/no/such/page'],
  [fixture('basic'), '/box'],
  [fixture('basic'), '/hello/' + encodeURIComponent('"><script>alert(1)</script>') + '?q=%3C%2Fscript%3E'],
  [fixture('basic'), '/shop/zzz'],
];

test('rendered pages pass the Nu HTML checker', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'atoll-vnu-'));
  const files: string[] = [];
  const atolls = new Map<string, Awaited<ReturnType<typeof createAtoll>>>();
  for (const [root, path] of pages) {
    if (!atolls.has(root)) atolls.set(root, await createAtoll({ root, logger: silentLogger }));
    const page = await atolls.get(root)!.render(path);
    const file = join(dir, `page-${files.length}.html`);
    writeFileSync(file, page.html);
    files.push(file);
  }
  const out = await new Promise<string>((resolve, reject) => {
    execFile('java', ['-jar', vnuJar, '--errors-only', '--format', 'json', ...files], { maxBuffer: 1 << 24 }, (err, _stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') reject(new Error('java is not installed: apt-get install -y default-jre-headless'));
      else resolve(stderr);
    });
  });
  const messages = (JSON.parse(out) as { messages: Array<{ url: string; message: string; lastLine?: number; extract?: string }> }).messages;
  const described = messages.map((m) => {
    const i = files.findIndex((f) => m.url.endsWith(f));
    return `${pages[i]?.[1] ?? m.url}:${m.lastLine}: ${m.message} — ${m.extract ?? ''}`;
  });
  assert.deepEqual(described, []);
});
