/**
 * What `<atoll-head>` modulepreloads: the module and chunks of every
 * `hydrate="load"` island and of the `visible` islands among the page's
 * first microfrontends (the likely first screen, `client.firstScreen`,
 * default 2) — and nothing of the islands further down or waiting for idle,
 * an interaction or a media query, not even their shared chunks.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { readManifest, type ClientManifest } from '../../ssr-server/build/manifest.ts';
import { DEFAULT_FIRST_SCREEN } from '../../ssr-server/build/head.ts';
import { handle } from '../../ssr-server/handle.ts';
import { prepareClient } from '../../ssr-server/build/client.ts';
import { createAtoll, memoryLogger, type Atoll } from '../../ssr-server/index.ts';
import { layout, makeSite } from '../helpers.ts';
import { parseDocument } from '../dom.ts';

/**
 * Elements and their shared code: `top.ts` is imported by the first-screen
 * islands only, `below.ts` only by islands that must not be preloaded —
 * each becomes its own chunk (rollup splits code that two entries share).
 */
const element = (tag: string, lib: 'top' | 'below' | 'none'): string =>
  `import { LitElement, html } from 'lit';\n` +
  (lib === 'none' ? 'const mark = (s: string): string => s;\n' : `import { mark } from './_lib/${lib}.js';\n`) +
  `customElements.define('${tag}', class extends LitElement { render() { return html\`<p>\${mark('${tag}')}</p>\`; } });\n`;

const TAGS: Record<string, 'top' | 'below' | 'none'> = {
  'pl-a': 'top', // first screen, visible
  'pl-b': 'top', // first screen, visible, hosts pl-n in its light DOM
  'pl-n': 'none', // nested in pl-b: preloaded with its host, takes no place of its own
  'pl-off': 'below', // third: below the first screen
  'pl-idle': 'below', // hydrate="idle"
  'pl-tap': 'below', // hydrate="interaction"
  'pl-wide': 'below', // hydrate="media:…"
  'pl-load': 'none', // hydrate="load", at the very bottom: always preloaded
  'pl-static': 'none', // hydrate="none"
  'pl-csr': 'none', // ssr="none", visible
};

const files = {
  'layouts/index.html': layout(`
<atoll-route path="/page">
  <pl-a></pl-a>
  <pl-b><pl-n></pl-n></pl-b>
  <pl-off></pl-off>
  <pl-idle hydrate="idle"></pl-idle>
  <pl-tap hydrate="interaction"></pl-tap>
  <pl-wide hydrate="media:(min-width: 900px)"></pl-wide>
  <pl-load hydrate="load"></pl-load>
</atoll-route>
<atoll-route path="/idle-first"><pl-idle hydrate="idle"></pl-idle><pl-a></pl-a><pl-off></pl-off></atoll-route>
<atoll-route path="/static-first"><pl-static hydrate="none"></pl-static><pl-csr ssr="none"></pl-csr><pl-a></pl-a></atoll-route>
<atoll-route path="/mixed"><pl-a></pl-a><pl-b></pl-b><pl-load hydrate="load"></pl-load><pl-a ssr="none" hydrate="interaction"></pl-a></atoll-route>
<atoll-route path="/lazy"><pl-idle hydrate="idle"></pl-idle><pl-tap hydrate="interaction"></pl-tap></atoll-route>
<atoll-route path="/groups">
  <pl-a><pl-idle hydrate="idle"></pl-idle><pl-static hydrate="none"><pl-wide hydrate="media:(min-width: 900px)"></pl-wide></pl-static></pl-a>
  <pl-tap hydrate="interaction"><pl-n hydrate="load"></pl-n></pl-tap>
  <pl-static hydrate="none"><pl-load hydrate="load"></pl-load></pl-static>
</atoll-route>`).replace('</head>', '<atoll-head></atoll-head></head>'),
  'elements/_lib/top.ts': `export const mark = (s: string): string => '[' + s + ']';\n`,
  'elements/_lib/below.ts': `export const mark = (s: string): string => '(' + s + ')';\n`,
  ...Object.fromEntries(Object.entries(TAGS).map(([tag, lib]) => [`elements/${tag}.ts`, element(tag, lib)])),
};

describe('<atoll-head> preloads the first screen’s islands only', () => {
  let root: string;
  let atoll: Atoll;
  let manifest: ClientManifest;
  /** The module and chunks of `tags`, as asset URLs. */
  const filesOf = (...tags: string[]): string[] => {
    const out = new Set<string>();
    for (const tag of tags) {
      const entry = manifest.elements[tag] as { file: string; imports: string[] };
      out.add(`/_atoll/assets/${entry.file}`);
      for (const f of entry.imports) out.add(`/_atoll/assets/${f}`);
    }
    return [...out].sort();
  };
  const preloadsOf = (html: string): string[] =>
    [...parseDocument(html).querySelectorAll('link[rel=modulepreload]')].map((l) => l.getAttribute('href')!).sort();
  const chunk = (name: string): string => {
    const file = Object.keys(manifest.files).find((f) => f.startsWith(`chunks/${name}-`) && f.endsWith('.js'));
    assert.ok(file, `a ${name} chunk: ${Object.keys(manifest.files).join(', ')}`);
    return `/_atoll/assets/${file}`;
  };

  before(async () => {
    root = makeSite(files);
    atoll = await createAtoll({ root, logger: memoryLogger(), client: { build: true } });
    manifest = readManifest(join(root, '.atoll', 'client'))!;
  });

  test('default: the first two microfrontends’ visible islands (with the one nested in its host) and the load island; nothing of the rest', async () => {
    assert.equal(DEFAULT_FIRST_SCREEN, 2);
    const preloads = preloadsOf((await atoll.render('/page')).html);
    assert.deepEqual(preloads, [...new Set([...filesOf('pl-a', 'pl-b', 'pl-n', 'pl-load')])].sort());
    // What today's page must not carry: the modules and the chunk of the islands below or waiting.
    const below = chunk('below');
    assert.ok(!preloads.includes(below), 'the chunk only off-screen and lazy islands share');
    for (const tag of ['pl-off', 'pl-idle', 'pl-tap', 'pl-wide']) {
      const entry = manifest.elements[tag] as { file: string; imports: string[] };
      assert.ok(entry.imports.includes(below.slice('/_atoll/assets/'.length)), `${tag} imports the below chunk`);
      assert.ok(!preloads.includes(`/_atoll/assets/${entry.file}`), `${tag}'s module waits for its strategy`);
    }
    assert.ok(preloads.includes(chunk('top')));
  });

  test('client.firstScreen moves the line: 0 preloads only load islands, 3 adds the third microfrontend, Infinity every visible one', async () => {
    const none = await createAtoll({ root, logger: memoryLogger(), client: { firstScreen: 0 } });
    assert.deepEqual(preloadsOf((await none.render('/page')).html), filesOf('pl-load'));
    const three = await createAtoll({ root, logger: memoryLogger(), client: { firstScreen: 3 } });
    assert.deepEqual(preloadsOf((await three.render('/page')).html), filesOf('pl-a', 'pl-b', 'pl-n', 'pl-off', 'pl-load'));
    const all = await createAtoll({ root, logger: memoryLogger(), client: { firstScreen: Infinity } });
    assert.deepEqual(preloadsOf((await all.render('/page')).html), filesOf('pl-a', 'pl-b', 'pl-n', 'pl-off', 'pl-load'), 'idle, interaction and media islands never');
  });

  test('every microfrontend takes a place on the first screen, whatever its strategy; a client-only visible island is preloaded too', async () => {
    // An idle island first: it takes the first place but is not preloaded; pl-a second is; pl-off third is not.
    assert.deepEqual(preloadsOf((await atoll.render('/idle-first')).html), filesOf('pl-a'));
    // hydrate="none" first (no module at all), then a client-only element in view: preloaded; pl-a is third.
    assert.deepEqual(preloadsOf((await atoll.render('/static-first')).html), filesOf('pl-csr'));
    // Only lazy islands: no preload at all.
    assert.deepEqual(preloadsOf((await atoll.render('/lazy')).html), []);
  });

  test('islands nested in an island’s light DOM hydrate with it (one group), so they are preloaded with it, whatever their own strategy', async () => {
    // pl-a (first screen) hydrates with pl-idle inside it; pl-wide sits inside a hydrate="none"
    // island, which groups nothing, so it keeps its media strategy; pl-n (load) hydrates with its
    // interaction host; pl-load inside a hydrate="none" island is a load group of its own.
    const preloads = preloadsOf((await atoll.render('/groups')).html);
    assert.deepEqual(preloads, filesOf('pl-a', 'pl-idle', 'pl-load'));
    for (const tag of ['pl-wide', 'pl-n', 'pl-tap', 'pl-static']) {
      const entry = manifest.elements[tag] as { file: string };
      assert.ok(!preloads.includes(`/_atoll/assets/${entry.file}`), tag);
    }
  });

  test('the element modules of server-rendered islands are marked eager (the loader evaluates them at once); chunks, client-only islands’ modules and tags with a client-only element on the page are not', async () => {
    const eagerOf = (html: string): string[] =>
      [...parseDocument(html).querySelectorAll('link[rel=modulepreload][data-atoll-eager]')].map((l) => l.getAttribute('href')!).sort();
    const modules = (...tags: string[]): string[] => tags.map((t) => `/_atoll/assets/${(manifest.elements[t] as { file: string }).file}`).sort();
    assert.deepEqual(eagerOf((await atoll.render('/page')).html), modules('pl-a', 'pl-b', 'pl-n', 'pl-load'));
    // pl-csr is client-only: preloaded (above), not evaluated before its strategy.
    assert.deepEqual(eagerOf((await atoll.render('/static-first')).html), []);
    // pl-a is server-rendered at the top but client-only further down: a class defined early would render that one at parse time.
    const mixed = (await atoll.render('/mixed')).html;
    assert.deepEqual(preloadsOf(mixed), filesOf('pl-a', 'pl-b', 'pl-load'));
    assert.deepEqual(eagerOf(mixed), modules('pl-b', 'pl-load'));
    assert.deepEqual(eagerOf((await atoll.render('/lazy')).html), []);
  });

  test('the head a route remembers is its own: pages asked for in turn keep their preloads and import maps', async () => {
    const want: Record<string, string[]> = {
      '/page': filesOf('pl-a', 'pl-b', 'pl-n', 'pl-load'),
      '/idle-first': filesOf('pl-a'),
      '/lazy': [],
      '/groups': filesOf('pl-a', 'pl-idle', 'pl-load'),
    };
    for (let round = 0; round < 3; round++) {
      for (const [path, preloads] of Object.entries(want)) {
        const html = (await atoll.render(path)).html;
        assert.deepEqual(preloadsOf(html), preloads, `${path}, round ${round}`);
        const map = JSON.parse(parseDocument(html).querySelector('script[type=importmap]')!.textContent!) as { imports: Record<string, string> };
        // (`@atoll/:router` is the client router's entry, no element's: docs/navigation.md.)
        const mapped = Object.keys(map.imports).filter((k) => k.startsWith('@atoll/') && k !== '@atoll/:router').sort();
        const onPage = [...new Set([...html.matchAll(/<(pl-[a-z]+)[\s>]/g)].map((m) => m[1]!))].filter((t) => t !== 'pl-static').map((t) => `@atoll/${t}`).sort();
        assert.deepEqual(mapped, onPage, `${path}: the import map maps this page's islands`);
      }
    }
  });

  test('the 103 Early Hints still carry only the load island’s files', async () => {
    const logger = memoryLogger();
    const client = await prepareClient(atoll.site, {}, logger);
    let hints: readonly string[] = [];
    await handle({ site: atoll.site, logger, ...client }, {
      method: 'GET',
      target: '/page',
      headers: new Headers(),
      signal: new AbortController().signal,
      onEarlyHints: (links) => (hints = links),
    });
    assert.deepEqual([...hints].sort(), filesOf('pl-load').map((f) => `<${f}>; rel=preload; as=script; crossorigin`).sort());
  });

  test('a firstScreen that is not a number ≥ 0 is refused at start-up', async () => {
    for (const bad of [-1, Number.NaN, '2' as unknown as number]) {
      await assert.rejects(createAtoll({ root, logger: memoryLogger(), client: { firstScreen: bad } }), /firstScreen must be a number ≥ 0/);
    }
  });
});
