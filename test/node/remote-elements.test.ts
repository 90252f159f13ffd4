/**
 * Remote elements and the fragment endpoint, with real servers on 127.0.0.1:
 * an Atoll page with a remote element equals the page with the same element
 * as a module; every fault of a remote gives its fallback and a complete
 * page; remotes are fetched in parallel; the fragment endpoint answers CORS
 * from an allowlist.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { parse as decodeProps } from 'devalue';
import { layout, makeSite, serveSite, shadowTemplate, type TestServer } from '../helpers.ts';
import { parseDocument } from '../dom.ts';

const cardModule = `
import { LitElement, html } from 'lit';
import { property } from 'lit/decorators.js';
export class RCard extends LitElement {
  @property() accessor sid = '';
  @property() accessor label = '';
  render() { return html\`<p class="card">card \${this.sid}: \${this.label}</p>\`; }
}
customElements.define('r-card', RCard);
`;
const cardHooks = `
export async function data(ctx) { return { label: 'L-' + ctx.attributes.sid + '-' + (ctx.headers.get('accept-language') ?? '') }; }
export function headers(ctx) { return { 'cache-control': 'max-age=30', 'x-team': 'recs' }; }
`;

/** A plain HTTP server that misbehaves in many ways (the remote under test). */
function evilServer(): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const [, path = '', tag = 'r-card'] = /^(\/[^/?]*)\/?([^/?]*)/.exec(req.url ?? '') ?? [];
    const good = `<${tag} sid="evil" defer-hydration><template shadowrootmode="open"><p>ok</p></template></${tag}>`;
    switch (path) {
      case '/slow':
        setTimeout(() => res.end(good), 1000).unref();
        return;
      case '/slow-ok':
        setTimeout(() => res.end(good), 200).unref();
        return;
      case '/500':
        res.statusCode = 500;
        res.end('boom');
        return;
      case '/404':
        res.statusCode = 404;
        res.end('gone');
        return;
      case '/reset':
        res.write('<r-card><template shadowrootmode="open"><p>half');
        setTimeout(() => res.socket?.destroy(), 20).unref();
        return;
      case '/unclosed':
        res.end('<r-card><template shadowrootmode="open"><p>never closed</p></template>');
        return;
      case '/garbage':
        res.end('<<<<>>> not html at all </div></span>');
        return;
      case '/no-shadow':
        res.end('<r-card><p>light only</p></r-card>');
        return;
      case '/endless': {
        const chunk = Buffer.alloc(64 * 1024, 'x');
        const pump = (): void => {
          while (!res.destroyed && res.write(chunk));
          if (!res.destroyed) res.once('drain', pump);
        };
        res.write('<r-card><template shadowrootmode="open"><p>');
        pump();
        return;
      }
      default:
        res.end(good);
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server })));
}

describe('remote elements', () => {
  let fragments: TestServer;
  let asRemote: TestServer;
  let asModule: TestServer;
  let faults: TestServer;
  let evil: { url: string; server: Server };
  const page = (body: string) => layout(`<main>\n${body}\n</main>`);

  before(async () => {
    const teamB = makeSite({
      'layouts/index.html': layout('<p>team b</p>'),
      'elements/r-card/index.ts': cardModule,
      'elements/r-card/server.ts': cardHooks,
      'atoll.config.json': JSON.stringify({ cors: { origins: ['http://allowed.example'] }, requestHeaders: ['accept-language'] }),
    });
    fragments = await serveSite({ root: teamB });
    const body = page('<r-card sid="one"><p class="fb">fallback one</p></r-card>\n<r-card sid="two" hydrate="load"><p class="fb">fallback two</p></r-card>');
    asRemote = await serveSite({
      root: makeSite({
        'layouts/index.html': body,
        'atoll.config.json': JSON.stringify({ requestHeaders: ['accept-language'], elements: { 'r-card': { url: `${fragments.url}/_atoll/fragment/r-card` } } }),
      }),
    });
    asModule = await serveSite({
      root: makeSite({
        'layouts/index.html': body,
        'atoll.config.json': JSON.stringify({
          requestHeaders: ['accept-language'],
          elements: { 'r-card': { module: join(teamB, 'elements/r-card/index.ts'), server: join(teamB, 'elements/r-card/server.ts') } },
        }),
      }),
    });
    evil = await evilServer();
    const modes = ['slow', '500', '404', 'reset', 'unclosed', 'garbage', 'no-shadow', 'endless'];
    const entries: Record<string, { url: string }> = {};
    for (const m of modes) entries[`r-${m}`] = { url: `${evil.url}/${m}/r-${m}` };
    entries['r-ok'] = { url: `${evil.url}/ok/r-ok` };
    entries['r-slow-a'] = { url: `${evil.url}/slow-ok/r-slow-a` };
    entries['r-slow-b'] = { url: `${evil.url}/slow-ok/r-slow-b` };
    entries['r-slow-c'] = { url: `${evil.url}/slow-ok/r-slow-c` };
    faults = await serveSite({
      root: makeSite({
        'layouts/index.html': page(
          [
            '<atoll-route path="/faults">',
            ...modes.map((m) => `<r-${m} timeout="300"><p class="fb">fallback ${m}</p></r-${m}>`),
            '<r-ok><p class="fb">fallback ok</p></r-ok>',
            '<local-card></local-card>',
            '</atoll-route>',
            '<atoll-route path="/parallel"><r-slow-a></r-slow-a><r-slow-b></r-slow-b><r-slow-c></r-slow-c></atoll-route>',
            '<atoll-route path="/primary"><r-404 primary><p>gone</p></r-404></atoll-route>',
            '<atoll-route path="/too-big"><r-endless timeout="2000"><p class="fb">too big</p></r-endless></atoll-route>',
          ].join('\n'),
        ),
        'elements/local-card/index.ts': `import { LitElement, html } from 'lit';\ncustomElements.define('local-card', class extends LitElement { render() { return html\`<p>local</p>\`; } });\n`,
        'atoll.config.json': JSON.stringify({ maxRemoteBytes: 256 * 1024, elements: entries }),
      }),
    });
  });
  after(async () => {
    await Promise.all([fragments.close(), asRemote.close(), asModule.close(), faults.close()]);
    evil.server.closeAllConnections();
    evil.server.close();
  });

  test('the fragment endpoint answers the element as DSD with its data, headers and CORS', async () => {
    const res = await fragments.get('/_atoll/fragment/r-card?sid=7', { headers: { origin: 'http://allowed.example', 'accept-language': 'fr' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), 'http://allowed.example');
    assert.equal(res.headers.get('x-team'), 'recs');
    assert.equal(res.headers.get('cache-control'), 'max-age=30');
    const html = await res.text();
    assert.match(html, /^<r-card sid="7" defer-hydration><template shadowrootmode="open">.*card <!--lit-part-->7<!--\/lit-part-->: <!--lit-part-->L-7-fr<!--\/lit-part-->/s);
    const props = /<script type="application\/json" data-atoll-props>(.*)<\/script><\/r-card>$/.exec(html);
    assert.ok(props, 'the props script ends the fragment');
    assert.deepEqual(decodeProps(props[1]!), { label: 'L-7-fr' });
  });

  test('CORS: an origin not on the allowlist gets no Access-Control-Allow-Origin', async () => {
    const res = await fragments.get('/_atoll/fragment/r-card?sid=1', { headers: { origin: 'http://evil.example' } });
    await res.text();
    assert.equal(res.headers.get('access-control-allow-origin'), null);
    const pre = await fragments.get('/_atoll/fragment/r-card', { method: 'OPTIONS', headers: { origin: 'http://allowed.example', 'access-control-request-method': 'GET' } });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), 'http://allowed.example');
    const refused = await fragments.get('/_atoll/fragment/r-card', { method: 'OPTIONS', headers: { origin: 'http://evil.example' } });
    assert.equal(refused.headers.get('access-control-allow-origin'), null);
  });

  test('with a client build, the fragment links its client module by absolute URL from publicOrigin (Tailor\'s fragment-script too), never from Host', async () => {
    const files = { 'layouts/index.html': layout('<p>b</p>'), 'elements/r-linked/index.ts': cardModule.replaceAll('r-card', 'r-linked').replaceAll('RCard', 'RLinked') };
    const built = await serveSite({
      // Another tag: custom element names are one registry per process.
      root: makeSite(files),
      client: { build: true },
      config: { publicOrigin: 'https://shop.example' },
    });
    try {
      const res = await built.get('/_atoll/fragment/r-linked?sid=1', { headers: { host: 'evil.example', 'x-forwarded-proto': 'https' } });
      await res.text();
      const m = /^<https:\/\/shop\.example(\/_atoll\/assets\/r-linked-[\w-]+\.js)>; rel="modulepreload", <https:\/\/shop\.example\1>; rel="fragment-script"$/.exec(res.headers.get('link') ?? '');
      assert.ok(m, `link: ${res.headers.get('link')}`);
      assert.equal((await fetch(built.url + m[1]!)).status, 200, 'the linked module is served');
    } finally {
      await built.close();
    }
  });

  test('without publicOrigin the Link URLs stay root-relative, whatever Host says', async () => {
    const res = await fragments.get('/_atoll/fragment/r-card?sid=1', { headers: { host: 'evil.example' } });
    await res.text();
    assert.doesNotMatch(res.headers.get('link') ?? '', /evil\.example/);
  });

  test('unknown tags are 404 (as nosniff text); attributes the element does not declare are dropped', async () => {
    const missing = await fragments.get('/_atoll/fragment/no-such-tag');
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get('x-content-type-options'), 'nosniff');
    const res = await fragments.get('/_atoll/fragment/r-card?%3Cscript%3E=1&onclick=alert(1)&style=x&sid=7');
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.match(html, /^<r-card sid="7"/);
    assert.doesNotMatch(html, /onclick|style=|<script>|&lt;script/);
  });

  test('a page with a remote element equals the page with the same element as a module', async () => {
    const headers = { 'accept-language': 'de' };
    const remote = await asRemote.get('/', { headers });
    const local = await asModule.get('/', { headers });
    const [a, b] = [await remote.text(), await local.text()];
    assert.equal(a, b);
    const doc = parseDocument(a);
    const cards = [...doc.querySelectorAll('r-card')];
    assert.equal(cards.length, 2);
    for (const c of cards) assert.ok(shadowTemplate(c), 'DSD from the remote');
    assert.equal(cards[1]!.getAttribute('hydrate'), 'load', 'the layout\'s hydrate stays on the tag');
    assert.equal(cards[0]!.querySelector('p.fb')!.textContent, 'fallback one', 'layout children stay as light DOM');
    assert.match(a, /L-one-de/, 'allowed request headers reach the remote');
    // A non-primary remote's headers count like a module's: the head waits for its response head.
    assert.equal(local.headers.get('x-team'), 'recs');
    assert.equal(remote.headers.get('x-team'), 'recs');
  });

  test('every kind of remote fault gives the fallback, a complete page and a log line', async () => {
    faults.logs.length = 0;
    const res = await faults.get('/faults', { headers: { 'x-request-id': 'remote-faults' } });
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.ok(html.trimEnd().endsWith('</html>'));
    const doc = parseDocument(html);
    const fallbacks = Object.fromEntries([...doc.querySelectorAll('[atoll-fallback]')].map((e) => [e.localName, e.getAttribute('atoll-fallback')]));
    assert.deepEqual(fallbacks, {
      'r-slow': 'timeout',
      'r-500': 'fetch',
      'r-404': 'fetch',
      'r-reset': 'fetch',
      'r-unclosed': 'fetch',
      'r-garbage': 'fetch',
      'r-no-shadow': 'fetch',
      'r-endless': 'fetch',
    });
    for (const tag of Object.keys(fallbacks)) {
      assert.equal(doc.querySelector(`${tag} > p.fb`)!.textContent, `fallback ${tag.slice(2)}`);
      assert.equal(doc.querySelector(tag)!.querySelector('template'), null);
    }
    assert.ok(shadowTemplate(doc.querySelector('r-ok')!), 'a good remote on the same page renders');
    assert.ok(shadowTemplate(doc.querySelector('local-card')!), 'module elements are intact');
    await sleep(20);
    const lines = faults.logs.filter((l) => l.msg === 'element failed; its fallback was rendered' && l.requestId === 'remote-faults');
    assert.deepEqual(lines.map((l) => l.element).sort(), Object.keys(fallbacks).sort());
  });

  test('slow remotes are fetched in parallel', async () => {
    const t0 = performance.now();
    const html = await (await faults.get('/parallel')).text();
    const ms = performance.now() - t0;
    assert.equal((html.match(/<p>ok<\/p>/g) ?? []).length, 3);
    assert.ok(ms < 450, `three 200 ms remotes took ${ms.toFixed(0)} ms together; one after another they take 600 ms`);
  });

  test('an endless body is cut at maxRemoteBytes, long before the timeout', async () => {
    faults.logs.length = 0;
    const html = await (await faults.get('/too-big')).text();
    assert.match(html, /<r-endless atoll-key="[0-9a-z]+" atoll-fallback="fetch"><p class="fb">too big<\/p><\/r-endless>/);
    await sleep(10);
    assert.match(String((faults.logs.find((l) => l.element === 'r-endless')?.err as { message?: string })?.message), /larger than 262144 bytes/);
  });

  test('a primary remote decides the headers, with its fetch time in Server-Timing', async () => {
    const s = await serveSite({
      root: makeSite({
        'layouts/index.html': layout('<r-card sid="p" primary></r-card>'),
        'atoll.config.json': JSON.stringify({ elements: { 'r-card': { url: `${fragments.url}/_atoll/fragment/r-card` } } }),
      }),
    });
    try {
      const res = await s.get('/');
      await res.text();
      assert.equal(res.headers.get('x-team'), 'recs');
      assert.equal(res.headers.get('cache-control'), 'max-age=30');
      assert.match(res.headers.get('server-timing')!, /fetch;desc="r-card";dur=/);
    } finally {
      await s.close();
    }
  });

  test('a primary remote that answers 404 makes the page a 404', async () => {
    const res = await faults.get('/primary');
    assert.equal(res.status, 404);
    assert.match(await res.text(), /<r-404 atoll-key="[0-9a-z]+" atoll-fallback="status"><p>gone<\/p><\/r-404>/);
  });
});
