/**
 * A seeded fuzz test of layouts through `atoll check`: real layouts (the
 * demo's and the test fixtures') are mutated — bytes flipped, cut short,
 * tags duplicated and deleted, deep nesting, reserved attributes with junk
 * values, interpolations, unicode, NUL bytes — and each mutated site is
 * checked. The answer must be exit 0, or exit 1 with every problem on one
 * `file:line:col: message` line: never a stack trace, never a crash, and
 * within a time bound.
 *
 * Most cases run in-process through the CLI's `main()` (one site folder, its
 * element modules imported once); a few run the real `bin/atoll.mjs` to prove
 * the exit codes. The seed is fixed so a failure reproduces; set
 * ATOLL_FUZZ_SEED=<n> (and ATOLL_FUZZ_CASES) to explore other mutations.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { main } from '../../ssr-server/cli.ts';
import { createAtoll } from '../../ssr-server/index.ts';
import { MAX_LAYOUT_DEPTH } from '../../ssr-server/layout/compile.ts';
import { silentLogger } from '../../ssr-server/log.ts';
import { seeded } from '../helpers.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const SEED = Number(process.env.ATOLL_FUZZ_SEED ?? 20261201);
const CASES = Number(process.env.ATOLL_FUZZ_CASES ?? 300);
/** No single check may take longer (generous: the machine is shared). */
const CASE_LIMIT_MS = 10_000;

const BASES: ReadonlyArray<readonly [string, string]> = [
  'layouts/index.html',
  'test/fixtures/basic/layouts/index.html',
  'test/fixtures/streaming/layouts/index.html',
  'test/fixtures/islands/layouts/index.html',
].map((p) => [p, readFileSync(join(repo, p), 'utf8')] as const);


type Random = ReturnType<typeof makeRandom>;
function makeRandom(seed: number) {
  const next = seeded(seed);
  const int = (n: number): number => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  return { next, int, pick };
}

/** Registry elements of the fuzz site (test/fixtures/basic and test/fixtures/fuzz). */
const ELEMENTS = ['x-greeting', 'x-item', 'x-box', 'shop-product', 'shop-reviews', 'shop-product-list'];
const RESERVED = ['hydrate', 'timeout', 'primary', 'cache', 'ssr'];
const ROUTE_ATTRS = ['path', 'default', 'status', 'from', 'to'];
const JUNK = [
  '', '0', '-1', '1', '597h', '2147483648', '10m', '10m1ms', '0.4', '1e9', 'NaN', 'Infinity', '∞', ' 2 s ', '300ms', '8761h', '60s', '1.5',
  'none', 'load', 'media:', 'media:(min-width: 1px)', 'visible ', 'true', 'false',
  '{params.x}', '{query.y}', '{params.', '{params.id}{params.id}', '{params.a-b}', '{query.}',
  '/', '/a/:id', '/a/*', '/(', '/:x(\\d+)', '/{a}?', '*', '//', ':id', '/a{/:b}?', '/%E2%82%AC', '/\u00e9',
  '200', '204', '301', '404', '999', '99', '1000000', 'NaN',
  '\u0000', '\u0001', '"', "'", '<', '>', '&amp;', '\n', '\r\n', '\t', '\u2028', '\ud83d\ude00', '\u202e', '\ufeff',
  'x'.repeat(3000), '/a'.repeat(1500), '{params.x}'.repeat(200),
];
const UNICODE = ['é', '\u00a0', '\ud83d\ude00', '\u202e', '\u0000', '\ufffd', '\u2028', 'ß', '中', '\u0301', '\ud800'];

/** One mutation of `src`; returns the new source and what was done. */
function mutate(src: string, r: Random): [string, string] {
  const tags = [...src.matchAll(/<\/?[a-zA-Z][^>]*>/g)];
  const at = (): number => r.int(src.length + 1);
  const insert = (pos: number, s: string): string => src.slice(0, pos) + s + src.slice(pos);
  const randomTag = () => r.pick(tags);
  switch (r.int(12)) {
    case 0: {
      let s = src;
      const n = 1 + r.int(8);
      for (let i = 0; i < n; i++) {
        const p = r.int(s.length);
        s = s.slice(0, p) + String.fromCharCode(r.pick([r.int(256), 0, 60, 62, 34, 47, 61, 123, 125])) + s.slice(p + 1);
      }
      return [s, `flip ${n} bytes`];
    }
    case 1: {
      const p = at();
      return [src.slice(0, p), `truncate at ${p}`];
    }
    case 2: {
      if (tags.length === 0) return [src, 'no tag to duplicate'];
      const t = randomTag();
      const n = 1 + r.int(3);
      return [insert(r.pick([t.index!, at()]), t[0].repeat(n)), `duplicate ${t[0].slice(0, 40)} ×${n}`];
    }
    case 3: {
      if (tags.length === 0) return [src, 'no tag to delete'];
      const t = randomTag();
      return [src.slice(0, t.index!) + src.slice(t.index! + t[0].length), `delete ${t[0].slice(0, 40)}`];
    }
    case 4: {
      const [open, close] = r.pick([
        ['<div>', '</div>'], ['<atoll-route path="a">', '</atoll-route>'], ['<atoll-route path=":p">', '</atoll-route>'],
        [`<${r.pick(ELEMENTS)}>`, ''], ['<b>', ''], ['<table><td>', '</td></table>'], ['<template>', '</template>'], ['<svg>', '</svg>'],
        ['<atoll-route default>', '</atoll-route>'], ['<x-box>', '</x-box>'],
      ]);
      const n = r.pick([3, 50, 255, 300, 2_000, 20_000]);
      const closed = r.next() < 0.7;
      return [insert(at(), open.repeat(n) + (closed ? close.repeat(n) : '')), `nest ${open} ×${n}${closed ? '' : ' unclosed'}`];
    }
    case 5:
    case 6: {
      // An attribute, often reserved, with a junk value, on an existing or a new element.
      const name = r.pick([...RESERVED, ...RESERVED, ...ROUTE_ATTRS, 'product-id', 'title', 'a', 'on\u00e9', 'x"y', `d${r.int(10)}`]);
      const value = r.pick(JUNK);
      const attr = r.next() < 0.2 ? ` ${name}` : ` ${name}="${value.replace(/"/g, r.next() < 0.5 ? '&quot;' : '"')}"`;
      if (tags.length > 0 && r.next() < 0.6) {
        const t = randomTag();
        if (!t[0].startsWith('</')) {
          const p = t.index! + t[0].search(/[\s/>]/);
          return [insert(p, attr), `attribute${attr.slice(0, 60)} on ${t[0].slice(0, 30)}`];
        }
      }
      const tag = r.pick([...ELEMENTS, 'atoll-route', 'atoll-redirect', 'atoll-head', 'atoll-nope', 'client-only']);
      return [insert(at(), `<${tag}${attr}>${r.next() < 0.8 ? `</${tag}>` : ''}`), `<${tag}${attr.slice(0, 60)}>`];
    }
    case 7: {
      // An interpolation in an existing attribute value, or a new attribute holding one.
      const hole = r.pick(['{params.x}', '{params.id}', '{query.q}', '{params.who}', '{params.', '{query.a b}']);
      const quote = [...src.matchAll(/="/g)];
      if (quote.length > 0 && r.next() < 0.7) {
        const q = r.pick(quote);
        return [insert(q.index! + 2, hole), `interpolation ${hole} in a value`];
      }
      return [insert(at(), `<${r.pick(ELEMENTS)} data-x="${hole}"></x-item>`), `interpolation ${hole} on a new element`];
    }
    case 8: {
      let s = src;
      const n = 1 + r.int(6);
      for (let i = 0; i < n; i++) {
        const p = r.int(s.length + 1);
        s = s.slice(0, p) + r.pick(UNICODE) + s.slice(p);
      }
      return [s, `insert ${n} unicode characters`];
    }
    case 9: {
      const p = at();
      return [insert(p, '\u0000'.repeat(1 + r.int(3))), `NUL at ${p}`];
    }
    case 10: {
      const t = r.pick([
        '</atoll-route>', '</x-item>', '<atoll-route>', '<atoll-route path>', '<atoll-redirect from="/" to="/x">', '<atoll-head>',
        '<atoll-head></atoll-head>', '<!--', '-->', '<![CDATA[', '<script>', '</script>', '<style>', '<textarea>', '<plaintext>',
        '<x-item item-id="{params.id}"></x-item>', '<atoll-route default status="404">', '<html>', '</body>', '<head>', '<!doctype html>',
        `<${'a'.repeat(5000)}-b>`, '<x-item/>', '<svg><x-item></x-item></svg>', '<math><mi><x-box>',
      ]);
      const n = 1 + r.int(3);
      return [insert(at(), t.repeat(n)), `insert ${t.slice(0, 40)} ×${n}`];
    }
    default: {
      // Many siblings or many attributes.
      if (r.next() < 0.5) {
        const n = r.pick([300, 5_000]);
        const attrs = Array.from({ length: n }, (_, i) => ` a${i}="${i}"`).join('');
        return [insert(at(), `<${r.pick(ELEMENTS)}${attrs}></x-item>`), `${n} attributes`];
      }
      const n = r.pick([1_000, 4_000]);
      return [insert(at(), `<${r.pick(ELEMENTS)} timeout="1s"></x-item><p>x</p>`.repeat(n)), `${n} siblings`];
    }
  }
}

/** One mutated layout: a base, then one to four mutations; sometimes bytes that are not UTF-8. */
function mutant(r: Random): { source: string | Buffer; steps: string[]; base: string } {
  const [base, original] = r.pick(BASES);
  let source = original;
  const steps: string[] = [];
  const n = 1 + r.int(4);
  for (let i = 0; i < n; i++) {
    const [s, what] = mutate(source, r);
    source = s;
    steps.push(what);
  }
  if (r.next() < 0.1 && source.length > 0) {
    const bytes = Buffer.from(source);
    const k = 1 + r.int(4);
    for (let i = 0; i < k; i++) bytes[r.int(bytes.length)] = 0x80 + r.int(128);
    steps.push(`${k} bytes that are not UTF-8`);
    return { source: bytes, steps, base };
  }
  return { source, steps, base };
}

/** Runs `atoll check` in-process, capturing what it writes. */
async function checkInProcess(root: string): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write;
  const err = process.stderr.write;
  // Only strings are the CLI's; the test runner's own reports (buffers) pass through.
  const hook = (orig: typeof out, sink: (s: string) => void) =>
    function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]) {
      if (typeof chunk === 'string') {
        sink(chunk);
        return true;
      }
      return (orig as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
    } as typeof out;
  process.stdout.write = hook(out, (s) => (stdout += s));
  process.stderr.write = hook(err, (s) => (stderr += s));
  const t = performance.now();
  try {
    const code = await main(['check', '--root', root]);
    return { code, stdout, stderr, ms: performance.now() - t };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

/** Runs the real CLI: `node bin/atoll.mjs check --root DIR`. */
function checkProcess(root: string): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const t = performance.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [join(repo, 'bin/atoll.mjs'), 'check', '--root', root], { timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr, ms: performance.now() - t });
    });
  });
}

const PROBLEM = /^(?:warning: )?(.+):(\d+):(\d+): \S.*$/;

/**
 * What a check must look like: exit 0 with "ok: …", or exit 1 with problem
 * lines and the count; every problem in `layout:line:col: message` form; no
 * stack trace. Returns a description of what is wrong, or undefined.
 */
function verdict(r: { code: number; stdout: string; stderr: string; ms: number }, layout: string): string | undefined {
  if (r.ms > CASE_LIMIT_MS) return `took ${Math.round(r.ms)} ms (limit ${CASE_LIMIT_MS})`;
  if (/\n\s+at .+[:(]\d+:\d+\)?$/m.test(r.stderr) || /Maximum call stack|internal error/i.test(r.stderr)) return 'a stack trace or an internal error';
  const lines = r.stderr.split('\n');
  if (lines.pop() !== '') return 'stderr does not end with a newline';
  if (r.code === 0) {
    if (!/^ok: 1 layout, \d+ elements\n$/.test(r.stdout)) return `exit 0 without "ok": ${JSON.stringify(r.stdout.slice(0, 200))}`;
    for (const line of lines) if (!line.startsWith('warning: ')) return `exit 0 with an error line: ${line.slice(0, 200)}`;
  } else if (r.code === 1) {
    const summary = lines.pop();
    const problems = lines.filter((l) => !l.startsWith('warning: '));
    if (summary !== `atoll check: ${problems.length} problem${problems.length === 1 ? '' : 's'} found`) return `exit 1 without the count: ${JSON.stringify(summary)}`;
    if (problems.length === 0) return 'exit 1 with no problem listed';
  } else {
    return `exit code ${r.code}`;
  }
  for (const line of lines) {
    const m = PROBLEM.exec(line);
    if (m === null) return `not a file:line:col problem: ${JSON.stringify(line.slice(0, 200))}`;
    if (m[1] !== layout) return `a problem outside the layout: ${line.slice(0, 200)}`;
    if (Number(m[2]) < 1 || Number(m[3]) < 1) return `no real position: ${line.slice(0, 200)}`;
  }
  return undefined;
}

let dir = '';
/**
 * A site folder: the fuzz elements, and `layout` as layouts/index.html. In
 * this process use only the 'inproc' site (a custom element is defined once
 * per process); other folders are for CLI processes.
 */
function site(name: string, layout: string | Buffer): string {
  const root = join(dir, name);
  mkdirSync(join(root, 'layouts'), { recursive: true });
  cpSync(join(repo, 'test/fixtures/basic/elements'), join(root, 'elements'), { recursive: true });
  cpSync(join(repo, 'test/fixtures/fuzz/elements'), join(root, 'elements'), { recursive: true });
  writeFileSync(join(root, 'layouts/index.html'), layout);
  return root;
}

describe('layout fuzz through atoll check', () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'atoll-layout-fuzz-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test(`${CASES} seeded mutations of real layouts: exit 0, or 1 with file:line:col problems, never a crash`, async () => {
    const root = site('inproc', '');
    const layout = join(root, 'layouts/index.html');
    const r = makeRandom(SEED);
    const codes = { ok: 0, problems: 0 };
    const started = performance.now();
    let slowest = 0;
    for (let i = 0; i < CASES; i++) {
      const m = mutant(r);
      writeFileSync(layout, m.source);
      let result;
      try {
        result = await checkInProcess(root);
      } catch (e) {
        result = { code: -1, stdout: '', stderr: `main() threw: ${(e as Error).stack}`, ms: 0 };
      }
      const wrong = verdict(result, layout);
      if (wrong !== undefined) {
        const kept = join(tmpdir(), `atoll-fuzz-${SEED}-${i}.html`);
        writeFileSync(kept, m.source);
        assert.fail(
          `case ${i} (ATOLL_FUZZ_SEED=${SEED}): ${wrong}\n  base ${m.base}; ${m.steps.join('; ')}\n  layout kept at ${kept}\n` +
            `  exit ${result.code}; stderr:\n${result.stderr.slice(0, 2_000)}`,
        );
      }
      slowest = Math.max(slowest, result.ms);
      codes[result.code === 0 ? 'ok' : 'problems']++;
    }
    // Both outcomes occur: the mutations are neither all harmless nor all fatal.
    assert.ok(codes.ok > CASES / 20 && codes.problems > CASES / 4, JSON.stringify(codes));
    const total = performance.now() - started;
    process.stderr.write(`# layout fuzz: seed ${SEED}, ${CASES} cases (${codes.ok} ok, ${codes.problems} with problems) in ${Math.round(total)} ms, slowest ${Math.round(slowest)} ms\n`);
  });

  test('the real CLI: exit codes and one line per problem', async () => {
    const demo = readFileSync(join(repo, 'layouts/index.html'), 'utf8');
    const deep = `<!doctype html>\n<html>\n<body>\n${'<div>\n'.repeat(100_000)}${'</div>'.repeat(100_000)}</body></html>\n`;
    const routes = demo.replace('<main>', `<main>${'<atoll-route path="a">'.repeat(1_500)}${'</atoll-route>'.repeat(1_500)}`);
    /** The line of the demo layout that holds `text` (the layout changes; the check must name that line). */
    const lineOf = (text: string): number => demo.split('\n').findIndex((l) => l.includes(text)) + 1;
    const durations = demo.replace('timeout="300"', 'timeout="597h"').replace('<shop-product product-id', '<shop-product timeout="0" product-id');
    const cases = [
      { name: 'demo', layout: demo, code: 0, lines: [] as RegExp[] },
      { name: 'deep', layout: deep, code: 1, lines: [/:258:1: <div> is nested more than 256 elements deep/] },
      { name: 'routes', layout: routes, code: 1, lines: [/:\d+:\d+: <atoll-route> is nested more than 256 elements deep/] },
      {
        name: 'durations',
        layout: durations,
        code: 1,
        lines: [
          new RegExp(`:${lineOf('<shop-product product-id')}:\\d+: timeout="0" is less than 1 ms: use a duration from 1 ms to 10 minutes$`),
          new RegExp(`:${lineOf('timeout="300"')}:\\d+: timeout="597h" is more than 10 minutes: use a duration from 1 ms to 10 minutes$`),
        ],
      },
    ];
    const results: Array<Awaited<ReturnType<typeof checkProcess>>> = [];
    // Two at a time: the machine has two cores.
    for (let i = 0; i < cases.length; i += 2) {
      results.push(...(await Promise.all(cases.slice(i, i + 2).map((c) => checkProcess(site(`cli-${c.name}`, c.layout))))));
    }
    cases.forEach((c, i) => {
      const r = results[i]!;
      const layout = join(dir, `cli-${c.name}`, 'layouts/index.html');
      assert.equal(r.code, c.code, `${c.name}: ${r.stderr.slice(0, 1_000)}`);
      assert.equal(verdict({ ...r, ms: 0 }, layout), undefined, `${c.name}: ${r.stderr.slice(0, 1_000)}`);
      const problems = r.stderr.split('\n').filter((l) => PROBLEM.test(l) && !l.startsWith('warning: '));
      assert.equal(problems.length, c.lines.length, `${c.name}: ${r.stderr.slice(0, 1_000)}`);
      c.lines.forEach((re, j) => assert.match(problems[j]!, re, c.name));
    });
    process.stderr.write(`# real CLI, 100,000 nested divs: exit ${results[1]!.code} in ${Math.round(results[1]!.ms)} ms\n`);
  });

  test('a layout at the depth limit passes check and renders: what runs per request is bounded by it', async () => {
    // <html>, <body>, then nested routes and nested microfrontends up to the limit.
    const half = (MAX_LAYOUT_DEPTH - 2) / 2;
    const routes = Array.from({ length: half }, (_, i) => `<atoll-route path=":p${i}">`).join('');
    const elements = Array.from({ length: half }, (_, i) => `<x-item item-id="{params.p${i}}" timeout="1s" cache="60">`).join('');
    const root = site('inproc', `<!doctype html><html><head><atoll-head></atoll-head></head><body>${routes}${elements}${'</x-item>'.repeat(half)}${'</atoll-route>'.repeat(half)}</body></html>`);
    const checked = await checkInProcess(root);
    assert.equal(checked.code, 0, checked.stderr);
    const atoll = await createAtoll({ root, logger: silentLogger, client: { build: false } });
    const page = await atoll.render(`/${Array.from({ length: half }, (_, i) => `v${i}`).join('/')}`);
    assert.equal(page.status, 200);
    const items = [...page.html.matchAll(/<span class="item">item (?:<!--[^>]*-->)*(v\d+)/g)].map((m) => m[1]);
    assert.deepEqual(items, Array.from({ length: half }, (_, i) => `v${i}`));
  });
});

