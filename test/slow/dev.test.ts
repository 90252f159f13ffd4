/**
 * `atoll dev` over real HTTP on 127.0.0.1, on a temporary copy of a small
 * site: edits to an element, a module it imports, a layout, a hook and the
 * config show on the next request without a restart; a broken edit (syntax
 * error, a throw at import, a deleted file, a client build error) shows its
 * problems with file:line:col on the event channel while the last good
 * generation keeps serving, and a fix clears them; a request in flight
 * finishes on the generation it started on.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DevServer, type GenerationEvent } from '../../ssr-server/dev/server.ts';
import { silentLogger } from '../../ssr-server/log.ts';
import { ALT_LAYOUT, CARD, CONFIG, HOOKED, HOOKS, LAYOUT, SHOUT, events, makeDevSite, type DevEvent } from './dev-fixture.ts';

/** The generation a page names to the event channel. */
const generationOf = (html: string): string => /data-generation="([^"]+)"/.exec(html)![1]!;

/** The page's text without Lit's comment markers. */
const plain = (html: string): string => html.replace(/<!--[\s\S]*?-->/g, '');

describe('atoll dev', { timeout: 180_000 }, () => {
  const site = makeDevSite();
  let dev: DevServer;
  let base: string;
  let channel: ReturnType<typeof events>;
  const generations: GenerationEvent[] = [];

  const get = async (path: string): Promise<{ status: number; html: string }> => {
    const res = await fetch(base + path);
    return { status: res.status, html: plain(await res.text()) };
  };
  /** Writes a file and waits for the generation it causes (a reload, or problems). */
  const edit = async (file: string, text: string, expect: 'reload' | 'problems' = 'reload'): Promise<DevEvent> => {
    // After the previous edit's client build: a build reading a file half-way through the
    // next save is a real (passing) problem, but would make the order of events a race here.
    await dev.idle();
    channel.skip();
    site.write(file, text);
    const e = await channel.next((ev) => ev.event === 'reload' || (ev.event === 'problems' && ev.data.generation !== undefined));
    assert.equal(e.event, expect, `after writing ${file}: ${JSON.stringify(e.data).slice(0, 600)}`);
    return e;
  };

  before(async () => {
    dev = new DevServer({ root: site.root, logger: silentLogger, debounceMs: 30 });
    dev.onGeneration = (g) => generations.push(g);
    base = await dev.start();
    channel = events(base);
    await channel.next((e) => e.event === 'hello');
  });

  after(async () => {
    channel?.close();
    await dev?.close();
    site.remove();
  });

  it('serves the site with the dev client in the head, and the client build', async () => {
    const { status, html } = await get('/');
    assert.equal(status, 200);
    assert.match(html, /card one HI!/);
    assert.match(html, /hooked alpha/);
    assert.match(html, /<script type="module" src="\/_atoll\/dev\/client.js" data-atoll-dev data-generation="[a-z0-9]+-1"/);
    const client = await fetch(base + '/_atoll/dev/client.js');
    assert.equal(client.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.match(await client.text(), /new EventSource/);
    const entry = /"@atoll\/d-card":"([^"]+)"/.exec(html)?.[1];
    assert.ok(entry !== undefined, 'the import map names the element\'s client module');
    const js = await fetch(base + entry);
    assert.equal(js.status, 200);
    assert.match(await js.text(), /card one/);
  });

  it('an element edit shows on the next request, in the page and in its client module', async () => {
    await edit('elements/d-card.ts', CARD('two'));
    const { html } = await get('/');
    assert.match(html, /card two HI!/);
    assert.match(html, /data-generation="[a-z0-9]+-2"/);
    const entry = /"@atoll\/d-card":"([^"]+)"/.exec(html)![1]!;
    assert.match(await (await fetch(base + entry)).text(), /card two/, 'the client module is rebuilt (asset requests wait for the build)');
    // A page rendered by an older generation (or before a restart) that connects now reloads.
    const stale = events(base, '?generation=before-1');
    const e = await stale.next((ev) => ev.event === 'reload' || ev.event === 'problems');
    stale.close();
    assert.equal(e.event, 'reload');
  });

  it('an element that guards its define with customElements.get() is reloaded too', async () => {
    const guarded = (w: string): string => CARD(w).replace("customElements.define('d-card', DCard);", "if (!customElements.get('d-card')) customElements.define('d-card', DCard);");
    await edit('elements/d-card.ts', guarded('guarded1'));
    assert.match((await get('/')).html, /card guarded1 HI!/);
    await edit('elements/d-card.ts', guarded('guarded2'));
    assert.match((await get('/')).html, /card guarded2 HI!/);
    await edit('elements/d-card.ts', CARD('two'));
  });

  it('an edit of a module an element imports reloads the element with it', async () => {
    await edit('elements/_lib/shout.ts', SHOUT('?'));
    assert.match((await get('/')).html, /card two HI\?/);
  });

  it('a layout edit shows on the next request', async () => {
    await edit('layouts/index.html', LAYOUT('second'));
    assert.match((await get('/')).html, /<h1 class="title">second<\/h1>/);
  });

  it('a hook edit shows on the next request', async () => {
    await edit('elements/d-hooked/server.ts', HOOKS('beta'));
    assert.match((await get('/')).html, /hooked beta/);
  });

  it('a config edit shows on the next request', async () => {
    assert.doesNotMatch((await get('/alt')).html, /the alt layout/);
    await edit('atoll.config.mjs', CONFIG(", '/alt': 'alt.html'"));
    assert.match((await get('/alt')).html, /the alt layout/);
    assert.match((await get('/')).html, /card two HI\?/);
  });

  it('a syntax error shows its problem with file:line:col and a code frame; the last good generation serves; a fix clears it', async () => {
    const broken = CARD('three').replace('override render() {', 'override render() { const = ;');
    const e = await edit('elements/d-card.ts', broken, 'problems');
    const [problem] = e.data.problems as Array<{ at: string; message: string; frame: string; line: number; col: number }>;
    assert.match(problem!.at, /elements\/d-card\.ts:11:\d+$/);
    assert.match(problem!.message, /d-card/);
    assert.match(problem!.frame, /> 11 \|.*const = ;/);
    // Requests keep the last good generation.
    const { status, html } = await get('/');
    assert.equal(status, 200);
    assert.match(html, /card two HI\?/);
    // A page that connects now gets the problems at once.
    const late = events(base, `?generation=${generationOf(html)}`);
    const shown = await late.next((ev) => ev.event === 'problems');
    late.close();
    assert.match(JSON.stringify(shown.data), /d-card\.ts:11/);
    // The fix: a reload, the new code, and no problems for the next page.
    await edit('elements/d-card.ts', CARD('three'));
    assert.match((await get('/')).html, /card three HI\?/);
    assert.equal(dev.problems, undefined);
    const fresh = events(base, `?generation=${generationOf((await get('/')).html)}`);
    await fresh.next((ev) => ev.event === 'hello');
    await new Promise((r) => setTimeout(r, 100));
    fresh.close();
    assert.deepEqual(fresh.all.map((ev) => ev.event), ['hello']);
  });

  it('a file added to public/ is served, and its edit too', async () => {
    assert.doesNotMatch(await (await fetch(base + '/notes.txt')).text(), /first note/);
    await edit('public/notes.txt', 'first note\n');
    const res = await fetch(base + '/notes.txt');
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'first note\n');
    await edit('public/notes.txt', 'second note\n');
    assert.equal(await (await fetch(base + '/notes.txt')).text(), 'second note\n');
  });

  it('a bad layout and a broken config are problems with their file:line:col; the fixes recover', async () => {
    const bad = LAYOUT('second').replace('<d-hooked></d-hooked>', '<d-hooked></d-hooked>\n  <atoll-route><p>no path</p></atoll-route>');
    const e = await edit('layouts/index.html', bad, 'problems');
    assert.match(JSON.stringify(e.data.problems), /layouts\/index\.html:12:3/);
    await edit('layouts/index.html', LAYOUT('second'));
    const c = await edit('atoll.config.mjs', 'export default {\n  layouts: { "/": "index.html" ,\n};\n', 'problems');
    assert.match(JSON.stringify(c.data.problems), /atoll\.config\.mjs/);
    assert.match((await get('/')).html, /<h1 class="title">second<\/h1>/, 'the last good generation serves');
    await edit('atoll.config.mjs', CONFIG(", '/alt': 'alt.html'"));
    assert.match((await get('/alt')).html, /the alt layout/);
  });

  it('a failed generation is not retried until a file changes (no build loop)', async () => {
    const before = generations.length;
    await edit('elements/d-card.ts', CARD('four').replace('html`', 'html(`'), 'problems');
    const count = generations.length;
    assert.equal(count, before + 1);
    await new Promise((r) => setTimeout(r, 800));
    assert.equal(generations.length, count, 'no generation without a change');
    await edit('elements/d-card.ts', CARD('four'));
    assert.match((await get('/')).html, /card four/);
  });

  it('a module that throws at import: problem with its location; the fix recovers', async () => {
    const throwing = `import './_lib/helper.ts';\n` + CARD('five');
    site.write('elements/_lib/helper.ts', `export const x = 1;\nthrow new Error('boom at import');\n`);
    const e = await edit('elements/d-card.ts', throwing, 'problems');
    const text = JSON.stringify(e.data.problems);
    assert.match(text, /boom at import/);
    assert.match(text, /_lib\/helper\.ts:2:7/);
    assert.match((await get('/')).html, /card four/, 'the last good generation serves');
    await edit('elements/_lib/helper.ts', `export const x = 1;\n`);
    assert.match((await get('/')).html, /card five/);
  });

  it('a deleted module is a problem, and restoring it recovers', async () => {
    await edit('elements/d-card.ts', CARD('six'));
    const { rmSync } = await import('node:fs');
    channel.skip();
    rmSync(`${site.root}/elements/_lib/shout.ts`);
    const e = await channel.next((ev) => ev.event === 'reload' || ev.event === 'problems');
    assert.equal(e.event, 'problems');
    assert.match(JSON.stringify(e.data.problems), /shout/);
    assert.match((await get('/')).html, /card six HI\?/);
    // Restoring it recovers. A generation that started while the file was still missing (the
    // watcher reports a deletion up to 100 ms late, to tell it from an atomic save) may report
    // the missing file once more first; what counts is that a reload follows with the file back.
    await dev.idle();
    channel.skip();
    site.write('elements/_lib/shout.ts', SHOUT('#'));
    await channel.next((ev) => ev.event === 'reload');
    assert.match((await get('/')).html, /card six HI#/);
  });

  it('rapid successive saves end on the last one', async () => {
    for (let i = 0; i < 8; i++) {
      site.write('elements/d-card.ts', CARD(`rapid${i}`));
      await new Promise((r) => setTimeout(r, 15));
    }
    // The watcher may report the last save a moment later on a busy machine: wait for it, at most 10 s.
    const deadline = Date.now() + 10_000;
    let html = '';
    while (Date.now() < deadline) {
      await dev.settled();
      html = (await get('/')).html;
      if (/card rapid7/.test(html)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(html, /card rapid7/);
    assert.equal(dev.problems, undefined);
  });

  it('a render error reaches the page\'s event channel with its file:line:col', async () => {
    const failing = CARD('seven').replace('return html`', "if (this.label === 'hi') throw new Error('render broke');\n    return html`");
    await edit('elements/d-card.ts', failing);
    const res = await fetch(base + '/');
    const html = await res.text();
    assert.match(html, /<d-card[^>]*atoll-fallback="render"/);
    const request = /data-request="([^"]+)"/.exec(html)?.[1];
    assert.ok(request);
    const page = events(base, `?generation=${generationOf(html)}&request=${request}`);
    const e = await page.next((ev) => ev.event === 'problems');
    page.close();
    const [problem] = e.data.problems as Array<{ kind: string; at: string; message: string }>;
    assert.equal(problem!.kind, 'render');
    assert.match(problem!.message, /render broke/);
    assert.match(problem!.at, /elements\/d-card\.ts:12:\d+$/);
    await edit('elements/d-card.ts', CARD('eight'));
  });

  it('a client build error (a client-only module) is a problem with file:line:col; the fix recovers', async () => {
    site.write('elements/_client/hooked.client.ts', `import './../d-hooked/index.ts';\nconst broken = ;\n`);
    const e = await edit('atoll.config.mjs', CONFIG(", '/alt': 'alt.html' }, elements: { 'd-hooked': { client: './elements/_client/hooked.client.ts' }"), 'problems');
    const [problem] = e.data.problems as Array<{ kind: string; at: string; frame: string }>;
    assert.equal(problem!.kind, 'build');
    assert.match(problem!.at, /elements\/_client\/hooked\.client\.ts:2:\d+$/);
    assert.match(problem!.frame, /> 2 \| const broken = ;/);
    assert.match((await get('/')).html, /hooked beta/, 'the last good generation serves');
    await edit('elements/_client/hooked.client.ts', `import './../d-hooked/index.ts';\n`);
    const html = (await get('/')).html;
    const entry = /"@atoll\/d-hooked":"([^"]+)"/.exec(html)![1]!;
    assert.equal((await fetch(base + entry)).status, 200);
    await edit('atoll.config.mjs', CONFIG(", '/alt': 'alt.html'"));
  });

  it('a tsconfig.json change evaluates every site module again', async () => {
    const counted = HOOKED + `(globalThis as { __devEvals?: number }).__devEvals = ((globalThis as { __devEvals?: number }).__devEvals ?? 0) + 1;\n`;
    await edit('elements/d-hooked/index.ts', counted);
    const g = globalThis as { __devEvals?: number };
    const once = g.__devEvals;
    assert.equal(once, 1);
    await edit('elements/d-card.ts', CARD('tsconfig1'));
    assert.equal(g.__devEvals, 1, 'an unrelated edit leaves the module loaded');
    await edit('tsconfig.json', '{ "compilerOptions": { "target": "es2022" } }\n');
    assert.equal(g.__devEvals, 2);
    assert.match((await get('/')).html, /card tsconfig1/);
  });

  it('a request in flight finishes on the generation it started on', async () => {
    const inFlight = get('/?slow=1500');
    await new Promise((r) => setTimeout(r, 150));
    await edit('elements/d-hooked/index.ts', HOOKED.replace('hooked ${', 'HOOKED-NEW ${'));
    const now = await get('/');
    assert.match(now.html, /HOOKED-NEW beta/);
    const old = await inFlight;
    assert.equal(old.status, 200);
    assert.match(old.html, /hooked beta/, 'the old element class rendered the request that started before the edit');
    assert.doesNotMatch(old.html, /HOOKED-NEW/);
  });

  it('the alt layout file removed: the config\'s layout is a problem; restored: recovers', async () => {
    const { rmSync } = await import('node:fs');
    await dev.settled();
    channel.skip();
    rmSync(`${site.root}/layouts/alt.html`);
    const e = await channel.next((ev) => ev.event === 'reload' || ev.event === 'problems');
    assert.equal(e.event, 'problems');
    assert.match(JSON.stringify(e.data.problems), /alt\.html/);
    await edit('layouts/alt.html', ALT_LAYOUT);
    assert.match((await get('/alt')).html, /the alt layout/);
  });
});

describe('atoll dev: a site that does not load at start', { timeout: 120_000 }, () => {
  const site = makeDevSite();
  let dev: DevServer;
  let base: string;

  before(async () => {
    site.write('elements/d-card.ts', CARD('zero').replace('class DCard', 'class DCard {'));
    dev = new DevServer({ root: site.root, logger: silentLogger, debounceMs: 30 });
    base = await dev.start();
  });

  after(async () => {
    await dev?.close();
    site.remove();
  });

  it('answers every page with the overlay (file:line:col, code frame) and the dev client; the fix loads the site', async () => {
    const res = await fetch(base + '/anything');
    assert.equal(res.status, 500);
    const html = await res.text();
    assert.match(html, /class="atoll-dev-overlay"/);
    assert.match(html, /elements\/d-card\.ts:4:\d+/);
    assert.match(html, /&gt; +4 \| export class DCard \{ extends/);
    assert.match(html, /src="\/_atoll\/dev\/client.js" data-atoll-dev data-generation="none"/);
    const channel = events(base, '?generation=none');
    await channel.next((e) => e.event === 'problems');
    site.write('elements/d-card.ts', CARD('zero'));
    await channel.next((e) => e.event === 'reload');
    channel.close();
    const ok = await fetch(base + '/');
    assert.equal(ok.status, 200);
    assert.match(plain(await ok.text()), /card zero HI!/);
  });
});

describe('atoll dev: rollup\'s cache kept for the next run', { timeout: 120_000 }, () => {
  const site = makeDevSite();
  after(() => site.remove());

  const run = async (): Promise<string> => {
    let report = '';
    const dev = new DevServer({ root: site.root, logger: silentLogger, cacheSaveDelayMs: 50, report: (t) => (report += t) });
    try {
      await dev.start();
      await dev.idle();
      // Let the worker save after its quiet time.
      const file = `${site.root}/.atoll/dev/rollup-cache.json`;
      const { existsSync } = await import('node:fs');
      for (let i = 0; i < 100 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      await dev.close();
    }
    return report;
  };

  it('the next start builds with the saved cache; another tsconfig.json does not use it', async () => {
    assert.doesNotMatch(await run(), /with the cache of the last run/);
    assert.match(await run(), /client build of generation \d+ done in \d+ ms \(with the cache of the last run\)/);
    site.write('tsconfig.json', '{ "compilerOptions": { "experimentalDecorators": true } }\n');
    assert.doesNotMatch(await run(), /with the cache of the last run/);
  });
});
