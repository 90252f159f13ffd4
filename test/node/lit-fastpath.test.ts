/**
 * The Lit fast path (render/lit-fastpath.ts) is active with the pinned Lit,
 * and rendering through it gives the same output as Lit's own renderer.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fastPathInEffect, renderHost } from '../../ssr-server/render/element.ts';
import { loadSite } from '../../ssr-server/site/load.ts';
import { fixture } from '../helpers.ts';

test('the fast path replaced Lit\'s helper (if this fails after a Lit upgrade, re-measure and update lit-fastpath.ts)', () => {
  assert.equal(fastPathInEffect(), true);
});

test('elements with attribute, property and child parts render as Lit renders them', async () => {
  const site = await loadSite({ root: fixture('basic') });
  const html = renderHost('x-box', [], undefined, site.renderers, true);
  assert.equal(
    html,
    '<x-box defer-hydration><template shadowrootmode="open"><!--lit-part 3vSPJsMav0w=--><div class="box"><!--lit-node 1--><x-item  item-id="inside" defer-hydration><template shadowrootmode="open"><!--lit-part OprwB0Yk4wk=--><span class="item">item <!--lit-part-->inside<!--/lit-part--></span><!--/lit-part--></template></x-item><slot></slot></div><!--/lit-part--></template>',
  );
});

test('when @lit-labs/ssr was loaded first, createAtoll says the fast path is off', async () => {
  const { execFile } = await import('node:child_process');
  const { repoRoot } = await import('../helpers.ts');
  const script = `
    await import('@lit-labs/ssr');
    const { createAtoll, memoryLogger } = await import('./ssr-server/index.ts');
    const logger = memoryLogger();
    await createAtoll({ root: 'test/fixtures/basic', logger });
    console.log(JSON.stringify(logger.lines.map((l) => l.msg)));
  `;
  const out = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: repoRoot }, (err, stdout, stderr) => {
      if (err) reject(new Error(stderr || String(err)));
      else resolve(stdout);
    });
  });
  const messages = JSON.parse(out) as string[];
  assert.ok(messages.some((m) => m.includes('without Atoll\'s fast path')), out);
});
