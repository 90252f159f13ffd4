/**
 * The Lit fast path (render/lit-fastpath.ts) is active with the pinned Lit,
 * and rendering through it gives the same output as Lit's own renderer.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderHost } from '../../ssr-server/render/element.ts';
import { litFastPathActive } from '../../ssr-server/render/lit-fastpath.ts';
import { loadSite } from '../../ssr-server/site/load.ts';
import { fixture } from '../helpers.ts';

test('the fast path replaced Lit\'s helper (if this fails after a Lit upgrade, re-measure and update lit-fastpath.ts)', () => {
  assert.equal(litFastPathActive(), true);
});

test('elements with attribute, property and child parts render as Lit renders them', async () => {
  const site = await loadSite({ root: fixture('basic') });
  const html = renderHost('x-box', [], undefined, site.renderers, true);
  assert.equal(
    html,
    '<x-box defer-hydration><template shadowrootmode="open"><!--lit-part 3vSPJsMav0w=--><div class="box"><!--lit-node 1--><x-item  item-id="inside" defer-hydration><template shadowrootmode="open"><!--lit-part OprwB0Yk4wk=--><span class="item">item <!--lit-part-->inside<!--/lit-part--></span><!--/lit-part--></template></x-item><slot></slot></div><!--/lit-part--></template>',
  );
});
