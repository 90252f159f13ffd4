/**
 * `atoll check` and `atoll serve` refuse broken sites at start-up with
 * `file:line:col` messages; `atoll render` prints a page. Each case is a
 * throw-away site folder outside the repository (no node_modules of its own:
 * Lit resolves to Atoll's copy).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fixture, layout, litElement, makeSite, runCli } from '../helpers.ts';

const expectProblem = async (files: Record<string, string>, expected: RegExp) => {
  const root = makeSite(files);
  const check = await runCli(['check', '--root', root]);
  assert.equal(check.code, 1, `check exits 1; stderr: ${check.stderr}`);
  assert.match(check.stderr, expected);
  const serve = await runCli(['serve', '--root', root, '--port', '0']);
  assert.equal(serve.code, 1, 'serve refuses the site too');
  assert.match(serve.stderr, expected);
  return check.stderr;
};

describe('atoll check and serve refuse broken sites with the exact location', () => {
  test('an unclosed route', async () => {
    await expectProblem(
      {
        'layouts/index.html': layout('<main>\n  <atoll-route path="/a">\n    <x-a></x-a>\n</main>'),
        'elements/x-a/index.ts': litElement('x-a'),
      },
      /layouts\/index\.html:6:3: <atoll-route> is never closed/,
    );
  });

  test('a param that no enclosing route supplies', async () => {
    await expectProblem(
      {
        'layouts/index.html': layout('<atoll-route path="/p/:id">\n  <x-a  item="{params.slug}"></x-a>\n</atoll-route>'),
        'elements/x-a/index.ts': litElement('x-a'),
      },
      /layouts\/index\.html:6:9: \{params\.slug\} in item="…" cannot be filled: the enclosing routes \(\/p\/:id\) have no :slug/,
    );
  });

  test('a param outside any route', async () => {
    await expectProblem(
      {
        'layouts/index.html': layout('<x-a item="{params.id}"></x-a>'),
        'elements/x-a/index.ts': litElement('x-a'),
      },
      /layouts\/index\.html:5:6: \{params\.id\} .*no enclosing <atoll-route>/,
    );
  });

  test('a registry module that does not exist', async () => {
    await expectProblem(
      {
        'layouts/index.html': layout('<x-a></x-a>'),
        'atoll.config.json': JSON.stringify({ elements: { 'x-a': { module: './lib/missing.js' } } }),
      },
      /atoll\.config\.json:1:30: elements\.x-a\.module: cannot resolve "\.\/lib\/missing\.js"/,
    );
  });

  test('a package that is not installed', async () => {
    await expectProblem(
      {
        'layouts/index.html': layout('<x-a></x-a>'),
        'atoll.config.json': JSON.stringify({ elements: { 'x-a': { module: '@nobody/not-installed/el.js' } } }),
      },
      /elements\.x-a\.module: cannot resolve "@nobody\/not-installed\/el\.js"/,
    );
  });

  test('a module that throws on import, with the line and column of the throw', async () => {
    await expectProblem(
      {
        'layouts/index.html': layout('<x-a></x-a>'),
        'elements/x-a/index.ts': "import { LitElement } from 'lit';\nconst n: number = 1;\nif (n) {\n  throw new Error('boom at import');\n}\n",
      },
      /elements\/x-a\/index\.ts:4:9: the element module threw while loading: boom at import/,
    );
  });

  test('a module that defines a different tag', async () => {
    await expectProblem(
      {
        'layouts/index.html': layout('<x-a></x-a>'),
        'elements/x-a/index.ts': litElement('x-b'),
      },
      /elements\/x-a\/index\.ts: this module must define <x-a> .*but it defined <x-b>/,
    );
  });

  test('a module that defines no element', async () => {
    await expectProblem(
      {
        'layouts/index.html': layout('<x-a></x-a>'),
        'elements/x-a.ts': 'export const nothing = 1;\n',
      },
      /elements\/x-a\.ts: this module must define <x-a> .*but it defined no custom element/,
    );
  });

  test('invalid JSON config, with line and column', async () => {
    await expectProblem(
      {
        'layouts/index.html': layout('<p>hi</p>'),
        'atoll.config.json': '{\n  "elements": {\n    "x-a": { "module": "./a.js", }\n  }\n}\n',
      },
      /atoll\.config\.json:3:\d+: invalid JSON/,
    );
  });

  test('a bad hydrate value and an unknown atoll tag, both reported in one run', async () => {
    const stderr = await expectProblem(
      {
        'layouts/index.html': layout('<x-a hydrate="sometimes"></x-a>\n<atoll-slot></atoll-slot>'),
        'elements/x-a/index.ts': litElement('x-a'),
      },
      /layouts\/index\.html:5:6: hydrate="sometimes" is not a strategy/,
    );
    assert.match(stderr, /layouts\/index\.html:6:1: unknown Atoll tag <atoll-slot>/);
    assert.match(stderr, /2 problems found/);
  });

  test('a registry cache lifetime that is not a duration', async () => {
    await expectProblem(
      {
        'layouts/index.html': layout('<x-a></x-a>'),
        'elements/x-a/index.ts': litElement('x-a'),
        'atoll.config.json': JSON.stringify({ elements: { 'x-a': { cache: 'a while' } } }),
      },
      /^atoll\.config\.json:1:29: elements\.x-a\.cache: "a while" is not a duration: use seconds \(60\) or a unit \(60s, 5m, 1h\), from 1 s to 365 days$/m,
    );
  });

  test('a control character in a config header value, with the line and column of the value', async () => {
    // Before the config schema this passed `check` and then killed the server on the first request.
    const stderr = await expectProblem(
      {
        'layouts/index.html': layout('<p>hi</p>'),
        'atoll.config.json': '{\n  "headers": {\n    "x-frame-options": "DENY",\n    "x-evil": "a\\u0001b"\n  }\n}\n',
      },
      /^atoll\.config\.json:4:15: headers\.x-evil: the value contains U\+0001, which is not allowed in a header value: use printable ASCII on one line, without control characters$/m,
    );
    assert.match(stderr, /1 problem found/);
  });

  test('a missing layouts/index.html', async () => {
    await expectProblem({ 'elements/x-a/index.ts': litElement('x-a') }, /layouts\/index\.html: the site has no layouts\/index\.html/);
  });
});

describe('atoll check on good sites', () => {
  test('passes on a fixture site and warns about client-only tags', async () => {
    const r = await runCli(['check', '--root', fixture('basic')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ok: 1 layout, 3 elements/);
    assert.match(r.stderr, /warning: .*layouts\/index\.html:27:3: <client-only-thing> is not in the element registry/);
  });

  test('passes on the demo site', async () => {
    const r = await runCli(['check']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ok: /);
  });
});

describe('atoll render', () => {
  test('prints a page to stdout, following redirects', async () => {
    const r = await runCli(['render', '/', '--root', fixture('basic')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /302 redirect to \/hello\/world/);
    assert.match(r.stdout, /^<!doctype html>/);
    assert.match(r.stdout, /<x-greeting atoll-key="[0-9a-z]+" name="world" data-q defer-hydration><template shadowrootmode="open">/);
  });

  test('--out writes the page to a file instead of stdout', async () => {
    const { mkdtempSync, readFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const out = join(mkdtempSync(join(tmpdir(), 'atoll-render-')), 'page.html');
    const r = await runCli(['render', '/hello/file', '--root', fixture('basic'), '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(readFileSync(out, 'utf8'), /^<!doctype html>.*name="file"/s);
  });

  test('works from another working directory with a relative --root', async () => {
    const r = await runCli(['render', '/hello/x', '--root', 'basic'], { cwd: fixture('') });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /name="x"/);
  });
});
