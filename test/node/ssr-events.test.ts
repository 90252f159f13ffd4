/**
 * Events during SSR travel through the layout's element nesting, as they
 * would if the whole layout were one Lit template (issue 11, item 2a): a
 * `@lit/context` consumer nested in a provider in the layout renders the
 * provided value on the server — directly, through a named slot, inside
 * plain markup, two levels down, through a route, with the provider or the
 * consumer primary, with the provider from the render cache, and with the
 * provider failing. The event path itself is compared with plain
 * `@lit-labs/ssr` rendering the same nesting as one template. Real HTTP on
 * 127.0.0.1, the fixture site test/fixtures/fidelity.
 */
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { after, before, describe, test } from 'node:test';
import { fixture, serveSite, shadowTemplate, type TestServer } from '../helpers.ts';
import { parseDocument } from '../dom.ts';
import { LruStore, type RenderCacheStore } from '../../ssr-server/index.ts';
import { LitElementRenderer, render } from '@lit-labs/ssr';
import { collectResult } from '@lit-labs/ssr/lib/render-result.js';
import { html } from 'lit';

const root = fixture('fidelity');

/** The text of `selector` in the declarative shadow root of the element `#id`. */
function shadowText(doc: Document, id: string, selector: string): string {
  const host = doc.getElementById(id);
  assert.ok(host, `#${id} is on the page`);
  const template = shadowTemplate(host);
  assert.ok(template, `#${id} was server-rendered (it has a declarative shadow root)`);
  const node = template.content.querySelector(selector);
  assert.ok(node, `#${id}'s shadow root has ${selector}`);
  return node.textContent!;
}

const theme = (doc: Document, id: string): string => shadowText(doc, id, 'p.theme');

/** A render cache that counts its hits. */
function countingCache(): RenderCacheStore & { hits: number } {
  const lru = new LruStore();
  const store = {
    hits: 0,
    get(key: string) {
      const e = lru.get(key);
      if (e !== undefined) store.hits++;
      return e;
    },
    set: (key: string, entry: Parameters<RenderCacheStore['set']>[1]) => lru.set(key, entry),
  };
  return store;
}

let server: TestServer;
let cache: ReturnType<typeof countingCache>;

before(async () => {
  cache = countingCache();
  server = await serveSite({ root, cache, client: { build: false } });
});
after(() => server.close());

async function page(path: string): Promise<{ status: number; doc: Document; html: string }> {
  const res = await server.get(path);
  const text = await res.text();
  return { status: res.status, doc: parseDocument(text), html: text };
}

describe('@lit/context across layout nesting (ssr.connectedCallback: true)', () => {
  test('a consumer nested in a provider renders the provided value: directly, in a named slot, inside plain markup, two levels down', async () => {
    const { status, doc } = await page('/context');
    assert.equal(status, 200);
    assert.equal(theme(doc, 'direct'), 'ocean', 'a direct child (default slot)');
    assert.equal(theme(doc, 'side'), 'ocean', 'inside <div slot="side"><p>… (the named slot)');
    assert.equal(theme(doc, 'boxed'), 'ocean', 'nested in <f-box>, itself in the provider');
    assert.equal(theme(doc, 'nearest'), 'forest', 'the nearest provider answers (an inner provider in a named slot)');
    assert.equal(theme(doc, 'outside'), 'no theme', 'a consumer outside every provider gets nothing');
  });

  test('a nested route is transparent: its elements are the provider\'s children', async () => {
    const { doc } = await page('/context/routed');
    assert.equal(theme(doc, 'routed'), 'ocean');
    assert.equal(theme(doc, 'direct'), 'ocean');
  });

  test('a primary provider renders before the head, and its consumer still gets the value', async () => {
    const { status, doc } = await page('/primary-provider');
    assert.equal(status, 200);
    assert.equal(theme(doc, 'c'), 'sun');
  });

  test('a primary consumer: the head waits for its ancestors too and renders them first, outermost first', async () => {
    const { status, doc } = await page('/primary-consumer');
    assert.equal(status, 200);
    assert.equal(theme(doc, 'c'), 'moon');
  });

  test('a provider from the render cache still provides (an instance is made and connected, not rendered)', async () => {
    const first = await page('/cached?theme=reef');
    assert.equal(theme(first.doc, 'c'), 'reef');
    const hits = cache.hits;
    const second = await page('/cached?theme=reef');
    assert.equal(cache.hits, hits + 1, 'the provider came from the cache');
    assert.equal(theme(second.doc, 'c'), 'reef');
    const other = await page('/cached?theme=lagoon');
    assert.equal(theme(other.doc, 'c'), 'lagoon', 'another key, another value: nothing leaks from the cached instance');
  });

  test('a cache store that answers with Promises: a primary consumer waits for its provider\'s asynchronous render (miss and hit)', async () => {
    const lru = new LruStore();
    let hits = 0;
    const slow: RenderCacheStore = {
      get: async (key) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        const e = lru.get(key);
        if (e !== undefined) hits++;
        return e;
      },
      set: async (key, entry) => lru.set(key, entry),
    };
    const s = await serveSite({ root, cache: slow, client: { build: false } });
    try {
      for (const expectedHits of [0, 1]) {
        const res = await s.get('/cached-primary?theme=tide');
        assert.equal(res.status, 200);
        assert.equal(theme(parseDocument(await res.text()), 'c'), 'tide');
        assert.equal(hits, expectedHits);
      }
    } finally {
      await s.close();
    }
  });

  test('a failing provider falls back; its consumer renders without it and the page goes on', async () => {
    const { status, doc } = await page('/failing');
    assert.equal(status, 200);
    assert.equal(doc.querySelector('f-provider-bad')!.getAttribute('atoll-fallback'), 'data');
    assert.equal(theme(doc, 'c'), 'no theme');
    assert.ok(doc.querySelector('f-provider-bad > p.fallback'), 'the fallback content is in place');
  });

  test('a failing provider in between is passed over: the consumer reaches the live one above it', async () => {
    const { doc } = await page('/failing-inner');
    assert.equal(theme(doc, 'c'), 'outer');
  });

  test('no server instance outlives its request (parents are released after their nested elements)', async () => {
    const refs: Array<WeakRef<object>> = [];
    const g = globalThis as { __fidelityInstances?: Array<WeakRef<object>> };
    g.__fidelityInstances = refs;
    try {
      for (const path of ['/context', '/primary-provider', '/primary-consumer', '/cached?theme=gc', '/cached?theme=gc', '/failing-inner']) await page(path);
    } finally {
      delete g.__fidelityInstances;
    }
    assert.ok(refs.length >= 15, `instances were made (${refs.length})`);
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    // No deref() before the last gc: a deref() keeps its target alive until the end of that job.
    for (let i = 0; i < 5; i++) {
      gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
    const alive = refs.map((r, i) => [i, r.deref()] as const).filter(([, el]) => el !== undefined);
    assert.deepEqual(alive.map(([i, el]) => `${i}: ${(el as Element).localName}`), [], 'every provider and consumer instance was collected');
  });

  test('Lit\'s global renderOptions are left as they were after every render', async () => {
    await page('/context');
    assert.deepEqual(LitElementRenderer.renderOptions, []);
  });
});

describe('the event path equals plain @lit-labs/ssr rendering the same nesting as one template', () => {
  test('top level, default slot, named slot through plain markup, a slot name nobody has, two levels', async () => {
    const atoll = (await page('/path')).doc;
    const enable = (): { connectedCallback: boolean } => ({ connectedCallback: true });
    LitElementRenderer.renderOptions.push(enable);
    let lit: string;
    try {
      lit = await collectResult(
        render(html`<f-path id="top"></f-path>
          <f-provider theme="p">
            <f-path id="slotted"></f-path>
            <div slot="side"><f-path id="wrapped"></f-path></div>
            <f-path id="unassigned" slot="nowhere"></f-path>
            <f-box><f-path id="boxed"></f-path></f-box>
          </f-provider>`),
      );
    } finally {
      LitElementRenderer.renderOptions.splice(LitElementRenderer.renderOptions.indexOf(enable), 1);
    }
    const plain = parseDocument(`<!doctype html><body>${lit}</body>`);
    for (const id of ['top', 'slotted', 'wrapped', 'unassigned', 'boxed']) {
      const expected = shadowText(plain, id, 'p.path');
      assert.equal(shadowText(atoll, id, 'p.path'), expected, `#${id}: the same composedPath()`);
    }
    // And the paths are the interesting ones, not all alike.
    assert.match(shadowText(atoll, 'wrapped', 'p.path'), /^f-path > slot > .*f-provider > lit-server-root/);
    assert.match(shadowText(atoll, 'boxed', 'p.path'), /^f-path > slot > .*f-box > slot > .*f-provider/);
    assert.match(shadowText(atoll, 'unassigned', 'p.path'), /^f-path > f-provider > lit-server-root/);
  });
});

describe('ssr.connectedCallback is per site', () => {
  test('off: consumers never ask (Lit\'s default); a tag list: only those tags; both sites in one process, interleaved', async () => {
    const off = await serveSite({ root, config: { ssr: { connectedCallback: false } }, client: { build: false } });
    // The provider is listed too: as in Lit, an element's shadow root (where its <slot>s
    // lead events) exists on the server only when its connectedCallback ran.
    const listed = await serveSite({ root, config: { ssr: { connectedCallback: ['f-consumer', 'f-provider'] } }, client: { build: false } });
    const pathOnly = await serveSite({ root, config: { ssr: { connectedCallback: ['f-path'] } }, client: { build: false } });
    try {
      for (let i = 0; i < 2; i++) {
        const [a, b, c, d] = await Promise.all(
          [off.get('/context'), listed.get('/context'), server.get('/context'), pathOnly.get('/context')].map(async (r) => parseDocument(await (await r).text())),
        );
        assert.equal(theme(a!, 'direct'), 'no theme', 'off');
        assert.equal(theme(b!, 'direct'), 'ocean', 'listed');
        assert.equal(theme(c!, 'direct'), 'ocean', 'true');
        assert.equal(theme(d!, 'direct'), 'no theme', 'a list without the consumer');
      }
      assert.deepEqual(LitElementRenderer.renderOptions, []);
    } finally {
      await Promise.all([off.close(), listed.close(), pathOnly.close()]);
    }
  });
});

describe('hostile nesting', () => {
  test('a provider whose render throws falls back; its nested consumer renders, the page completes', async () => {
    const { makeSite, layout } = await import('../helpers.ts');
    const site = makeSite({
      'atoll.config.mjs': 'export default { ssr: { connectedCallback: true } };',
      'layouts/index.html': layout('<h-prov><h-cons id="c"></h-cons></h-prov><p id="end">end</p>'),
      'elements/h-prov.ts': `
import { LitElement, html } from 'lit';
import { ContextProvider } from '@lit/context';
customElements.define('h-prov', class extends LitElement {
  p = new ContextProvider(this, { context: 'k', initialValue: 'from a broken provider' });
  render() { throw new Error('h-prov render is broken'); }
});`,
      'elements/h-cons.ts': `
import { LitElement, html } from 'lit';
import { ContextConsumer } from '@lit/context';
customElements.define('h-cons', class extends LitElement {
  c = new ContextConsumer(this, { context: 'k' });
  render() { return html\`<p class="theme">\${this.c.value ?? 'no theme'}</p>\`; }
});`,
    });
    const s = await serveSite({ root: site, client: { build: false } });
    try {
      const res = await s.get('/');
      const doc = parseDocument(await res.text());
      assert.equal(res.status, 200);
      assert.equal(doc.querySelector('h-prov')!.getAttribute('atoll-fallback'), 'render');
      assert.equal(theme(doc, 'c'), 'no theme', 'the broken provider is no event target');
      assert.ok(doc.getElementById('end'));
    } finally {
      await s.close();
    }
  });
});
