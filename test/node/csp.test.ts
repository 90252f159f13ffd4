/**
 * Content-Security-Policy (the `csp` config, `atoll serve --csp`): a nonce
 * per request on every script Atoll writes and in the header; every `<style>`
 * — the layout's, and Lit's inside declarative shadow roots, nested ones
 * included — covered by a hash in the header or the request's nonce, also
 * when the element's markup comes from the render cache; without `csp`
 * nothing changes. The policy itself: `{nonce}`, hashes only where the nonce
 * is allowed, Report-Only.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_POLICY, cspHeader, makeNonce, policyFor } from '../../ssr-server/csp.ts';
import { createAtoll, memoryLogger, type Atoll, type AtollConfig } from '../../ssr-server/index.ts';
import { layout, makeSite, repoRoot } from '../helpers.ts';

const styled = (tag: string, css: string, template: string, extra = ''): string => `
import { LitElement, css, html } from 'lit';
${extra}
class El extends LitElement {
  static styles = css\`${css}\`;
  render() { ${template} }
}
customElements.define('${tag}', El);
`;

const counter = (name: string): string => `(globalThis as any).${name} = ((globalThis as any).${name} ?? 0) + 1;`;

const files: Record<string, string> = {
  'layouts/index.html': layout(`
<atoll-route path="/page">
  <cp-load hydrate="load"></cp-load>
  <cp-cached cache="60s"></cp-cached>
  <cp-literal cache="60s"></cp-literal>
  <cp-data></cp-data>
</atoll-route>
<atoll-route path="/plain"><p>no elements</p></atoll-route>
<atoll-route path="/remote"><cp-remote></cp-remote></atoll-route>`).replace(
    '</head>',
    `<style>\r\n  body { margin: 0 }\r\n</style>
<script>document.documentElement.dataset.js = '1';</script>
<script type="application/ld+json">{"@context":"https://schema.org"}</script>
<atoll-head></atoll-head></head>`,
  ),
  'elements/_lib/inner.ts': styled('cp-inner', ':host { display: block; color: rgb(1, 2, 3); }', 'return html`<i>inner</i>`;'),
  'elements/cp-load.ts': styled('cp-load', ':host { display: block; }', 'return html`<p>load</p><cp-inner></cp-inner>`;', "import './_lib/inner.js';"),
  'elements/cp-cached.ts': styled('cp-cached', 'p { color: rgb(4, 5, 6); }', `${counter('__cpCachedRenders')} return html\`<p>cached</p>\`;`),
  // A literal <style> in a template: not among the static styles known at start-up.
  'elements/cp-literal.ts': styled('cp-literal', 'b { font-weight: 700; }', `${counter('__cpLiteralRenders')} return html\`<style>p { color: rgb(7, 8, 9); }</style><p>literal</p>\`;`),
  'elements/cp-data/index.ts': `
import { LitElement, html } from 'lit';
class El extends LitElement {
  static properties = { n: { type: Number } };
  declare n: number;
  render() { return html\`<p>\${this.n}</p>\`; }
}
customElements.define('cp-data', El);
`,
  'elements/cp-data/server.ts': 'export function data() { return { n: 42 }; }\n',
};

/** One site folder for the whole file: a tag can be defined only once per process. */
const root = makeSite(files);

/** A remote element's server: its markup has a `<style>` this server's classes do not know. */
const REMOTE_STYLE = 'p { color: rgb(9, 9, 9); }';
let remote: Server;
let config: AtollConfig;
before(async () => {
  remote = createServer((_req, res) => {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(`<cp-remote><template shadowrootmode="open"><style>${REMOTE_STYLE}</style><p>remote</p></template></cp-remote>`);
  });
  await new Promise<void>((resolve) => remote.listen(0, '127.0.0.1', resolve));
  const { port } = remote.address() as AddressInfo;
  config = { csp: {}, elements: { 'cp-remote': { url: `http://127.0.0.1:${port}/cp-remote` } } };
});
after(() => remote.close());

const renders = (): { cached: number; literal: number } => {
  const g = globalThis as { __cpCachedRenders?: number; __cpLiteralRenders?: number };
  return { cached: g.__cpCachedRenders ?? 0, literal: g.__cpLiteralRenders ?? 0 };
};

/** The SHA-256 CSP source of an inline element's text as a browser computes it (CR LF → LF). */
const sha = (text: string): string => `'sha256-${createHash('sha256').update(text.replace(/\r\n?/g, '\n')).digest('base64')}'`;

/** One directive's sources, by name. */
function directive(policy: string, name: string): string[] {
  const d = policy.split(';').map((s) => s.trim().split(/\s+/)).find((parts) => parts[0] === name);
  assert.ok(d, `the policy has ${name}: ${policy}`);
  return d.slice(1);
}

/** The nonce of `policy`'s script-src. */
function nonceOf(policy: string): string {
  const source = directive(policy, 'script-src').find((s) => s.startsWith("'nonce-"));
  assert.ok(source, `script-src allows a nonce: ${policy}`);
  return source.slice("'nonce-".length, -1);
}

const attr = (tag: string, name: string): string | undefined => {
  const m = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return m === null ? undefined : m[1];
};

/** Checks one page served with csp on; returns its nonce. */
function checkCovered(html: string, policy: string): string {
  const nonce = nonceOf(policy);
  const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
  const executable = scripts.filter((s) => !/type="application\/(ld\+)?json"/.test(s));
  // The import map and the loader, and the layout's own script (covered by its hash).
  assert.ok(executable.length >= 3, executable.join('\n'));
  for (const tag of executable) {
    if (tag === '<script>') continue; // the layout's inline script, checked below by its hash
    assert.equal(attr(tag, 'nonce'), nonce, `${tag} carries the request's nonce`);
  }
  const layoutScript = /<script>([\s\S]*?)<\/script>/.exec(html);
  assert.ok(layoutScript);
  assert.ok(directive(policy, 'script-src').includes(sha(layoutScript[1]!)), 'the layout’s inline script is allowed by its hash');
  for (const tag of scripts.filter((s) => /type="application\/json"/.test(s))) assert.equal(attr(tag, 'nonce'), undefined, 'serialized props are data, not script');

  const preloads = [...html.matchAll(/<link rel="modulepreload"[^>]*>/g)].map((m) => m[0]);
  assert.ok(preloads.length > 0);
  for (const link of preloads) assert.equal(attr(link, 'nonce'), nonce, `${link} carries the nonce`);

  const styleSrc = directive(policy, 'style-src');
  const styles = [...html.matchAll(/<style(\s[^>]*)?>([\s\S]*?)<\/style>/g)];
  assert.ok(styles.length >= 6, `the layout's style and the shadow roots' styles (${styles.length})`);
  for (const [whole, attrs = '', text] of styles) {
    const byNonce = attr(attrs, 'nonce') === nonce && styleSrc.includes(`'nonce-${nonce}'`);
    assert.ok(byNonce || styleSrc.includes(sha(text!)), `covered by the header: ${whole.slice(0, 80)}`);
  }
  return nonce;
}

describe('csp on', () => {
  let atoll: Atoll;
  before(async () => {
    atoll = await createAtoll({ root, logger: memoryLogger(), config, client: { build: true } });
  });

  test('every script Atoll writes carries the request’s nonce; every <style> is covered by a hash or the nonce; the nonce is new per request', async () => {
    const before = renders();
    const first = await atoll.render('/page');
    assert.equal(first.status, 200);
    const policy1 = first.headers.get('content-security-policy');
    assert.ok(policy1, 'the header is sent');
    const nonce1 = checkCovered(first.html, policy1);
    assert.ok(Buffer.from(nonce1, 'base64').length >= 16, `at least 128 bits: ${nonce1}`);
    assert.ok(first.html.includes(`<script nonce="${nonce1}">self.litNonce="${nonce1}";`), 'Lit’s own <style>s (no constructable stylesheets) get the nonce');
    assert.equal(renders().cached, before.cached + 1);

    const second = await atoll.render('/page');
    const policy2 = second.headers.get('content-security-policy')!;
    const nonce2 = checkCovered(second.html, policy2);
    assert.notEqual(nonce2, nonce1, 'a new nonce per request');
    assert.doesNotMatch(second.html, new RegExp(nonce1.replace(/[+/]/g, '\\$&')), 'nothing of the first request’s nonce is reused');

    // cp-cached came from the render cache on the second request, and is still covered (by its hash).
    assert.equal(renders().cached, before.cached + 1, 'cp-cached rendered once: the second page used the cache');
    const cached = /<cp-cached[\s\S]*?<\/template>/.exec(second.html)![0];
    assert.equal(cached, /<cp-cached[\s\S]*?<\/template>/.exec(first.html)![0]);
    assert.doesNotMatch(cached, /nonce=/, 'Lit’s styles need no nonce: their hash is in the header');

    // cp-literal's <style> is not known at start-up: it carries the nonce, so its markup is never cached.
    assert.equal(renders().literal, before.literal + 2, 'markup with a nonce is not put into the render cache');
    assert.match(second.html, new RegExp(`<style nonce="${nonce2.replace(/[+/]/g, '\\$&')}">p \\{ color: rgb\\(7, 8, 9\\); \\}</style>`));
  });

  test('the default policy, with the hashes of the layout’s and the elements’ styles (nested elements included)', async () => {
    const page = await atoll.render('/page');
    const policy = page.headers.get('content-security-policy')!;
    const nonce = nonceOf(policy);
    const expected = DEFAULT_POLICY.replaceAll('{nonce}', nonce).split('; ');
    const got = policy.split('; ').map((d) => d.split(' ').filter((s) => !s.startsWith("'sha256-")).join(' '));
    assert.deepEqual(got, expected);
    const styleSrc = directive(policy, 'style-src');
    assert.ok(styleSrc.includes(sha('\r\n  body { margin: 0 }\r\n')), 'the layout’s <style>');
    assert.ok(styleSrc.includes(sha(':host { display: block; color: rgb(1, 2, 3); }')), 'a nested element that is not in the registry');
    assert.ok(styleSrc.includes(sha('p { color: rgb(4, 5, 6); }')));
    assert.ok(!directive(policy, 'script-src').includes(sha('{"@context":"https://schema.org"}')), 'JSON data blocks are not script');
  });

  test('a remote element’s <style> (not known here) gets the request’s nonce', async () => {
    for (let i = 0; i < 2; i++) {
      const page = await atoll.render('/remote');
      const nonce = nonceOf(page.headers.get('content-security-policy')!);
      assert.ok(page.html.includes(`<style nonce="${nonce}">${REMOTE_STYLE}</style>`), page.html);
    }
  });

  test('a page with no elements gets the header too (its layout styles and scripts are covered)', async () => {
    const page = await atoll.render('/plain');
    const policy = page.headers.get('content-security-policy')!;
    assert.ok(directive(policy, 'style-src').includes(sha('\r\n  body { margin: 0 }\r\n')));
    assert.doesNotMatch(page.html, /nonce=/);
  });
});

describe('csp off', () => {
  test('no header and no nonce anywhere; otherwise the same page as with csp', async () => {
    const on = await createAtoll({ root, logger: memoryLogger(), config });
    const off = await createAtoll({ root, logger: memoryLogger(), config: { ...config, csp: false } });
    const plain = await off.render('/page');
    assert.equal(plain.headers.get('content-security-policy'), null);
    assert.equal(plain.headers.get('content-security-policy-report-only'), null);
    assert.doesNotMatch(plain.html, /nonce/);
    const withCsp = await on.render('/page');
    // The nonce attributes, and `litNonce` for Lit's <style>s where constructable stylesheets are missing.
    assert.equal(withCsp.html.replace(/ nonce="[^"]*"/g, '').replace(/<script>self\.litNonce="[^"]*";/, '<script>'), plain.html);
  });
});

describe('the policy', () => {
  const hashes = { styles: ["'sha256-s1'", "'sha256-s2'"], scripts: ["'sha256-j1'"] };

  test('makeNonce: base64 of at least 128 random bits, new every time', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const n = makeNonce();
      assert.match(n, /^[A-Za-z0-9+/]+={0,2}$/);
      assert.ok(Buffer.from(n, 'base64').length >= 16);
      seen.add(n);
    }
    assert.equal(seen.size, 1000);
  });

  test('{nonce} is replaced everywhere; hashes go to the directive that governs the element, only where the nonce is allowed', () => {
    assert.equal(
      policyFor("default-src 'self'; script-src 'nonce-{nonce}'; style-src 'self' 'nonce-{nonce}'", 'N', hashes),
      "default-src 'self'; script-src 'nonce-N' 'sha256-j1'; style-src 'self' 'nonce-N' 'sha256-s1' 'sha256-s2'",
    );
    assert.equal(
      policyFor("style-src 'nonce-{nonce}'; style-src-elem 'self' 'nonce-{nonce}'", 'N', hashes),
      "style-src 'nonce-N'; style-src-elem 'self' 'nonce-N' 'sha256-s1' 'sha256-s2'",
    );
    assert.equal(policyFor("default-src 'nonce-{nonce}'", 'N', hashes), "default-src 'nonce-N' 'sha256-s1' 'sha256-s2' 'sha256-j1'");
    // 'unsafe-inline' without the nonce stays working (a hash would switch it off); 'none' stays 'none'.
    assert.equal(policyFor("script-src 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'", 'N', hashes), "script-src 'nonce-N' 'sha256-j1'; style-src 'self' 'unsafe-inline'");
    assert.equal(policyFor("style-src 'none'; script-src 'none'", 'N', hashes), "style-src 'none'; script-src 'none'");
  });

  test('cspHeader: the default policy, a custom one, Report-Only', () => {
    assert.deepEqual(cspHeader({}, 'abc'), { name: 'content-security-policy', value: DEFAULT_POLICY.replaceAll('{nonce}', 'abc') });
    assert.deepEqual(cspHeader({ policy: "script-src 'nonce-{nonce}'", reportOnly: true }, 'abc'), {
      name: 'content-security-policy-report-only',
      value: "script-src 'nonce-abc'",
    });
  });
});

test('atoll serve --csp sends the header with a new nonce per page', async () => {
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'atoll.mjs'), 'serve', '--root', root, '--port', '0', '--csp', '--quiet'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d;
        const m = /at (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.on('exit', (code) => reject(new Error(`atoll serve exited with ${code}`)));
    });
    const a = await fetch(url + '/page');
    const b = await fetch(url + '/page');
    const pa = a.headers.get('content-security-policy')!;
    const pb = b.headers.get('content-security-policy')!;
    checkCovered(await a.text(), pa);
    checkCovered(await b.text(), pb);
    assert.notEqual(nonceOf(pa), nonceOf(pb));
  } finally {
    child.kill('SIGTERM');
  }
});
