/**
 * Atoll on sites that are not the demo: an `atoll.config.mjs` with layouts by
 * path prefix, JavaScript element modules, a component library installed in
 * the site's own node_modules, timeouts from the registry and the config, and
 * an operator's header merge.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { layout, litElement, makeSite, serveSite, shadowTemplate, type TestServer } from '../helpers.ts';
import { parseDocument } from '../dom.ts';

describe('a site with its own config, JS elements and a component library', () => {
  let server: TestServer;
  before(async () => {
    const root = makeSite({
      'package.json': JSON.stringify({ name: 'variety-site', private: true, type: 'module' }),
      'layouts/index.html': layout('<main><js-hello who="world"></js-hello><lib-button label="Buy"></lib-button><slow-one><p class="fb">slow fallback</p></slow-one><slower-one><p class="fb">slower fallback</p></slower-one></main>'),
      'layouts/admin.html': layout('<h1 id="admin">Admin</h1><js-hello who="admin"></js-hello>'),
      // A plain JavaScript element module (no TypeScript, no decorators).
      'elements/js-hello.js': `import { LitElement, html } from 'lit';
export class JsHello extends LitElement {
  static properties = { who: {} };
  constructor() { super(); this.who = ''; }
  render() { return html\`<p>hello \${this.who} from js</p>\`; }
}
customElements.define('js-hello', JsHello);
`,
      'elements/slow-one/index.ts': litElement('slow-one'),
      'elements/slow-one/server.ts': 'export function data(ctx) { return new Promise((r) => { const t = setTimeout(r, 5000); ctx.signal.addEventListener("abort", () => { clearTimeout(t); r({}); }); }); }\n',
      'elements/slower-one/index.ts': litElement('slower-one'),
      'elements/slower-one/server.ts': 'export function data(ctx) { return new Promise((r) => { const t = setTimeout(r, 5000); ctx.signal.addEventListener("abort", () => { clearTimeout(t); r({}); }); }); }\n',
      // A component library in the site's own node_modules, with an exports map.
      'node_modules/acme-ui/package.json': JSON.stringify({ name: 'acme-ui', version: '1.0.0', type: 'module', exports: { './button.js': './src/button.js' } }),
      'node_modules/acme-ui/src/button.js': `import { LitElement, html, css } from 'lit';
export class LibButton extends LitElement {
  static properties = { label: {} };
  static styles = css\`button { font-weight: bold; }\`;
  constructor() { super(); this.label = ''; }
  render() { return html\`<button part="button">\${this.label}</button>\`; }
}
customElements.define('lib-button', LibButton);
`,
      'atoll.config.mjs': `export default {
  layouts: { '/admin': 'admin.html' },
  timeout: 80,
  headers: { 'x-frame-options': 'DENY' },
  elements: {
    'lib-button': { module: 'acme-ui/button.js' },
    'slower-one': { timeout: 120 },
  },
};
`,
    });
    server = await serveSite({
      root,
      mergeHeaders: (parts) => {
        const h = new Headers({ 'content-type': 'text/html; charset=utf-8', 'x-merged-by': 'operator' });
        h.set('x-parts', parts.map((p) => p.source).join(','));
        return h;
      },
    });
  });
  after(() => server.close());

  test('a JavaScript element and a component-library element render as DSD', async () => {
    const res = await server.get('/');
    const doc = parseDocument(await res.text());
    assert.match(shadowTemplate(doc.querySelector('js-hello')!)!.innerHTML, /hello <!--lit-part-->world<!--\/lit-part--> from js/);
    assert.match(shadowTemplate(doc.querySelector('lib-button')!)!.innerHTML, /<style>button \{ font-weight: bold; \}<\/style>.*<button part="button">/s);
  });

  test('the config timeout applies to every element, a registry timeout overrides it', async () => {
    server.logs.length = 0;
    const html = await (await server.get('/')).text();
    assert.match(html, /<slow-one atoll-key="[0-9a-z]+" atoll-fallback="timeout"><p class="fb">slow fallback<\/p><\/slow-one>/);
    assert.match(html, /<slower-one atoll-key="[0-9a-z]+" atoll-fallback="timeout">/);
    await new Promise((r) => setTimeout(r, 10));
    const messages = server.logs.filter((l) => l.phase === 'timeout').map((l) => (l.err as { message: string }).message).sort();
    assert.deepEqual(messages, ['<slow-one> timed out after 80 ms', '<slower-one> timed out after 120 ms']);
  });

  test('a path prefix picks its own layout', async () => {
    const doc = parseDocument(await (await server.get('/admin/users')).text());
    assert.ok(doc.querySelector('#admin'));
    assert.equal(doc.querySelector('js-hello')!.getAttribute('who'), 'admin');
    const home = parseDocument(await (await server.get('/administrator')).text());
    assert.equal(home.querySelector('#admin'), null, '/administrator is not under /admin');
  });

  test('the operator can replace the whole header merge', async () => {
    const res = await server.get('/admin');
    await res.text();
    assert.equal(res.headers.get('x-merged-by'), 'operator');
    assert.equal(res.headers.get('x-parts'), 'layout');
    assert.equal(res.headers.get('x-frame-options'), null, 'the replacement decides everything');
  });
});
