/**
 * The layout compiler in isolation: the op tree it builds and the problems it
 * reports with their locations.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ProblemList } from '../../ssr-server/errors.ts';
import { compileLayout } from '../../ssr-server/layout/compile.ts';
import type { ElementOp, Op, RouteOp } from '../../ssr-server/layout/ops.ts';
import { joinPaths, compilePattern } from '../../ssr-server/layout/route-pattern.ts';

const compile = (source: string, elements = ['x-a', 'x-b']) => {
  const problems = new ProblemList();
  const layout = compileLayout({ file: 'l.html', source, isElement: (t) => elements.includes(t), problems });
  return { layout, problems };
};
const find = <K extends Op['kind']>(ops: readonly Op[], kind: K): Extract<Op, { kind: K }>[] => {
  const out: Op[] = [];
  const walk = (list: readonly Op[]) => {
    for (const op of list) {
      if (op.kind === kind) out.push(op);
      if (op.kind === 'route' || op.kind === 'element') walk(op.children);
    }
  };
  walk(ops);
  return out as Extract<Op, { kind: K }>[];
};

describe('compileLayout', () => {
  test('static markup becomes merged text ops', () => {
    const { layout, problems } = compile('<!doctype html><html><head><title>x</title></head><body><p class="a">hi &amp; bye</p></body></html>');
    assert.equal(problems.errors.length, 0);
    assert.deepEqual(layout.ops.map((o) => o.kind), ['text']);
    assert.equal((layout.ops[0] as { html: string }).html, '<!doctype html><html><head><title>x</title></head><body><p class="a">hi &amp; bye</p></body></html>');
  });

  test('<atoll-head> inside <head> stays in the head', () => {
    const { layout } = compile('<!doctype html><html><head><title>x</title><atoll-head></atoll-head><meta name="a" content="b"></head><body></body></html>');
    assert.deepEqual(layout.ops.map((o) => o.kind), ['text', 'head', 'text']);
    assert.match((layout.ops[2] as { html: string }).html, /^<meta name="a" content="b"><\/head>/);
  });

  test('microfrontends get their reserved attributes consumed, hydrate kept', () => {
    const { layout } = compile('<x-a hydrate="load" timeout="2s" primary cache="60s" ssr="none" title="t"><p>fallback</p></x-a>');
    const [el] = find(layout.ops, 'element') as ElementOp[];
    assert.deepEqual(el!.attrs.map((a) => a.name), ['hydrate', 'title']);
    assert.equal(el!.hydrate, 'load');
    assert.equal(el!.timeout, 2000);
    assert.equal(el!.primary, true);
    assert.equal(el!.cache, 60_000);
    assert.equal(el!.ssr, false);
    assert.deepEqual(el!.children.map((o) => o.kind), ['text']);
  });

  test('interpolated attributes are split into parts', () => {
    const { layout, problems } = compile('<atoll-route path="/p/:id"><x-a a="id-{params.id}-{query.q}" b="{nope}"></x-a></atoll-route>');
    assert.equal(problems.errors.length, 0);
    const [el] = find(layout.ops, 'element');
    assert.deepEqual(el!.attrs[0]!.parts, ['id-', { source: 'params', name: 'id' }, '-', { source: 'query', name: 'q' }]);
    assert.equal(el!.attrs[1]!.literal, '{nope}', 'unknown brace forms are literal text');
  });

  test('nested routes join paths; a parent with children matches as a prefix', () => {
    const { layout } = compile('<atoll-route path="/shop"><atoll-route path=":id"><x-a a="{params.id}"></x-a></atoll-route></atoll-route>');
    const [outer, inner] = find(layout.ops, 'route') as RouteOp[];
    assert.ok(outer!.pattern!.match('/shop'));
    assert.ok(outer!.pattern!.match('/shop/1/2'));
    assert.equal(outer!.pattern!.match('/shopping'), undefined);
    assert.deepEqual(inner!.pattern!.match('/shop/7'), { id: '7' });
  });

  test('a default route knows its non-default siblings', () => {
    const { layout } = compile('<main><atoll-route path="/a"></atoll-route><atoll-route path="/b"></atoll-route><atoll-route default status="404"></atoll-route></main>');
    const routes = find(layout.ops, 'route') as RouteOp[];
    const def = routes.find((r) => r.pattern === undefined)!;
    assert.deepEqual(def.siblings.map((s) => s.pattern!.source), ['/a', '/b']);
    assert.equal(def.status, 404);
  });

  test('problems carry line and column', () => {
    const { problems } = compile('<p>\n  <atoll-route>\n  </atoll-route>\n  <atoll-redirect from="/a" to="/b" status="200"></atoll-redirect>\n  <x-a timeout="soon"></x-a>\n</p>');
    const lines = problems.errors.map((p) => `${p.line}:${p.col} ${p.message.slice(0, 30)}`);
    assert.deepEqual(lines, [
      '2:3 <atoll-route> needs a path="…"',
      '4:37 status="200" is not a redirect',
      '5:8 timeout="soon" is not a durati',
    ]);
  });

  test('cache lifetimes: a bare number is seconds, anything else that is not a duration is an error', () => {
    const { layout, problems } = compile('<x-a cache="90"></x-a><x-b cache="5m"></x-b>\n<x-a cache="forever"></x-a>');
    assert.deepEqual(find(layout.ops, 'element').map((e) => e.cache), [90_000, 300_000, undefined]);
    assert.deepEqual(problems.errors.map((p) => `${p.line}:${p.col} ${p.message}`), ['2:6 cache="forever" is not a lifetime: use seconds (60) or a unit (60s, 5m, 1h)']);
  });

  test('a stray end tag is a parse error with its location', () => {
    const { problems } = compile('<main>\n</atoll-route>\n</main>');
    assert.equal(problems.errors[0]!.line, 2);
    assert.equal(problems.errors[0]!.col, 1);
    assert.match(problems.errors[0]!.message, /<\/atoll-route> closes nothing/);
  });

  test('an invalid route pattern is reported', () => {
    const { problems } = compile('<atoll-route path="/(unclosed"></atoll-route>');
    assert.match(problems.errors[0]!.message, /path="\/\(unclosed" is not a valid URLPattern pathname/);
  });
});

describe('route patterns', () => {
  test('joinPaths', () => {
    assert.equal(joinPaths(undefined, 'a'), '/a');
    assert.equal(joinPaths('/shop', ':id'), '/shop/:id');
    assert.equal(joinPaths('/shop/', '/:id'), '/shop/:id');
    assert.equal(joinPaths('/settings/*', 'profile'), '/settings/profile');
  });

  test('wildcards and optional groups', () => {
    assert.ok(compilePattern('/settings/*').match('/settings/a/b'));
    const p = compilePattern('/docs{/:page}?');
    assert.deepEqual(p.match('/docs'), {});
    assert.deepEqual(p.match('/docs/intro'), { page: 'intro' });
  });
});
