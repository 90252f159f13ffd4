/**
 * `data()` values on their way to the browser (issue 11, item 2b): devalue
 * round-trips what JSON lost or mangled; what cannot cross is an error that
 * names the key path (and, on a page, the element, which falls back); the
 * props script stays inert in HTML; hostile values never throw out of the
 * serializer. The last tests go through a real server on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse } from 'devalue';
import { html } from 'lit';
import { checkProps, MAX_PROPS_CHARS } from '../../ssr-server/render/props.ts';
import { cacheKey } from '../../ssr-server/render/cache.ts';
import { fixture, layout, litElement, makeSite, serveSite } from '../helpers.ts';
import { parseDocument } from '../dom.ts';

function encode(value: unknown): string {
  const r = checkProps(value);
  assert.ok(r.ok, r.ok ? '' : r.reason);
  return r.encoded ?? '';
}

function refused(value: unknown): string {
  const r = checkProps(value);
  assert.ok(!r.ok, 'refused');
  return r.reason;
}

describe('what crosses', () => {
  test('undefined, Date, Map, Set, BigInt, repeated references and cycles round-trip', () => {
    const shared = { n: 1 };
    const loop: Record<string, unknown> = { name: 'loop' };
    loop.self = loop;
    const value = {
      gone: undefined,
      list: [undefined, 1, , 3], // eslint-disable-line no-sparse-arrays
      when: new Date('2026-01-02T03:04:05.006Z'),
      bad: new Date(NaN),
      tags: new Map<unknown, unknown>([['a', shared], [shared, 'key is an object']]),
      seen: new Set([shared, 'x']),
      big: -(2n ** 80n),
      first: shared,
      second: shared,
      loop,
      re: /a<b/giu,
      url: new URL('https://example.com/a?b=<c>'),
      bytes: new Uint8Array([1, 2, 255]),
      numbers: [NaN, Infinity, -Infinity, -0],
      nullProto: Object.assign(Object.create(null) as object, { a: 1 }),
      boxed: Object(7) as number,
    };
    const back = parse(encode(value)) as typeof value;
    assert.ok('gone' in back && back.gone === undefined, 'an undefined property stays, undefined');
    assert.equal(back.list.length, 4);
    assert.ok(!(2 in back.list), 'the hole stays a hole');
    assert.ok(back.when instanceof Date && back.when.getTime() === value.when.getTime());
    assert.ok(back.bad instanceof Date && Number.isNaN(back.bad.getTime()));
    assert.ok(back.tags instanceof Map && back.tags.get('a') === back.first, 'a Map value is the same object as the repeated reference');
    assert.equal(back.tags.get([...back.tags.keys()][1]), 'key is an object');
    assert.ok(back.seen instanceof Set && back.seen.has(back.first));
    assert.equal(back.big, -(2n ** 80n));
    assert.equal(back.first, back.second, 'one object referenced twice is one object again');
    assert.equal(back.loop.self, back.loop, 'a cycle is a cycle again');
    assert.ok(back.re instanceof RegExp && back.re.source === 'a<b' && back.re.flags === 'giu');
    assert.ok(back.url instanceof URL && back.url.href === value.url.href);
    assert.deepEqual([...back.bytes], [1, 2, 255]);
    assert.ok(Number.isNaN(back.numbers[0]) && back.numbers[1] === Infinity && back.numbers[2] === -Infinity && Object.is(back.numbers[3], -0));
    assert.equal(Object.getPrototypeOf(back.nullProto), null);
    assert.equal(Number(back.boxed), 7);
  });

  test('null or undefined from data() means no properties; the result must be an object', () => {
    assert.deepEqual(checkProps(undefined), { ok: true, props: undefined, encoded: undefined });
    assert.deepEqual(checkProps(null), { ok: true, props: undefined, encoded: undefined });
    assert.match(refused([1]), /must return an object of properties, not an array/);
    assert.match(refused('x'), /not a string/);
    assert.match(refused(new (class Order {})()), /must return a plain object of properties; its result is an instance of a class \(Order\)/);
  });

  test('the same data gives the same text (the render cache key), different data a different one', () => {
    const a = () => ({ when: new Date(0), m: new Map([[1, 2]]), u: undefined });
    assert.equal(encode(a()), encode(a()));
    assert.equal(cacheKey('x-a', [], encode(a())), cacheKey('x-a', [], encode(a())));
    assert.notEqual(encode({ u: undefined }), encode({}), 'undefined is not a missing key (JSON mixed them up)');
    assert.notEqual(encode({ n: 1n }), encode({ n: '1' }));
    assert.notEqual(encode({ d: new Date(0) }), encode({ d: '1970-01-01T00:00:00.000Z' }));
  });
});

describe('what cannot cross: an error naming the key path', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['a function deep inside', { items: [1, 2, { render: () => 1 }] }, /^data\(\) value at \.items\[2\]\.render is a function; only data can cross to the browser$/],
    ['a named function value', { onClick: function named() {} }, /at \.onClick is a function/],
    ['a symbol', { s: Symbol('x') }, /at \.s is a symbol/],
    ['a Lit template result', { label: html`<b>x</b>` }, /at \.label is a Lit template result/],
    ['a template result inside a Map', { m: new Map([['k', html`x`]]) }, /at \.m\.get\("k"\) is a Lit template result/],
    ['a Promise', { p: Promise.resolve(1) }, /at \.p is a Promise \(or thenable\); await it in data\(\)/],
    ['a class instance', { order: new (class Order { id = 1 })() }, /at \.order is an instance of a class \(Order\)/],
    ['an Error', { e: new Error('x') }, /at \.e is an instance of a class \(Error\)/],
    ['a DOM-ish node', { n: { nodeType: 1, nodeName: 'DIV' } }, /at \.n is a DOM node/],
    ['an event target', { t: { addEventListener() {} } }, /at \.t is a DOM object/],
    ['a key with an odd name', { 'a b': [() => 1] }, /at \["a b"\]\[0\] is a function/],
    ['an object with symbol keys', { o: { [Symbol('k')]: 1 } }, /at \.o has symbol keys/],
    ['a __proto__ own key', JSON.parse('{"x":{"__proto__":{"polluted":1}}}'), /at \.x has a "__proto__" key/],
  ];
  for (const [name, value, reason] of cases) {
    test(name, () => assert.match(refused(value), reason));
  }
});

describe('hostile values never throw out of the serializer', () => {
  test('a getter that throws, a Proxy whose traps throw, a revoked Proxy: refused with the key and the reason', () => {
    const getter = Object.defineProperty({}, 'g', { enumerable: true, get() { throw new Error('getter is hostile'); } });
    assert.match(refused({ deep: [getter] }), /^data\(\) value at \.deep\[0\]\.g could not be read: getter is hostile$/);
    const trap = new Proxy({}, { get() { throw new Error('get trap'); }, getPrototypeOf() { throw new Error('proto trap'); }, ownKeys() { throw new Error('keys trap'); } });
    assert.match(refused({ p: trap }), /at \.p could not be read: /);
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    assert.match(refused({ r: proxy }), /at \.r could not be read: /);
    const root = new Proxy({}, { ownKeys() { throw new Error('root keys trap'); } });
    assert.match(refused(root), /could not be read: root keys trap/);
    const thrower = { get message(): string { throw new Error('inner'); } };
    const evil = Object.defineProperty({}, 'x', { enumerable: true, get() { throw thrower; } });
    assert.match(refused(evil), /at \.x could not be read/);
  });

  test('deeply nested data is refused, not a crash', () => {
    let deep: Record<string, unknown> = {};
    const top = deep;
    for (let i = 0; i < 200_000; i++) {
      const next = {};
      deep.n = next;
      deep = next;
    }
    assert.match(refused(top), /nested too deeply/);
  });

  test('too large: text past the limit, and binary data that would be', () => {
    const r = checkProps({ s: 'x'.repeat(200) }, 100);
    assert.ok(!r.ok && /more than the 100 allowed/.test(r.reason));
    const big = checkProps({ b: new Uint8Array(1024) }, 100);
    assert.ok(!big.ok && /binary data/.test(big.reason));
    assert.ok(MAX_PROPS_CHARS >= 1024 * 1024);
  });

  test('a Node Buffer crosses as its own bytes only, not its pool', () => {
    const small = Buffer.from('hi');
    const back = parse(encode({ b: small })) as { b: Uint8Array };
    assert.deepEqual([...back.b], [104, 105]);
  });
});

describe('inert in HTML', () => {
  test('no "<", U+2028 or U+2029 anywhere in the output, whatever the strings and keys hold', () => {
    const hostile = '</script><script>alert(1)</script><!-- --> <\u2028\u2029 "quotes" & <b> \\ \u0000';
    const value = { [hostile]: hostile, list: [hostile], m: new Map([[hostile, hostile]]), re: new RegExp('</script>'), url: new URL('https://x.example/</script>') };
    const text = encode(value);
    assert.doesNotMatch(text, /[<\u2028\u2029]/);
    assert.doesNotMatch(text, /<\/script|<!--/i);
    const back = parse(text) as typeof value;
    assert.equal(back[hostile], hostile);
    assert.equal(back.m.get(hostile), hostile);
    assert.equal(back.re.source, new RegExp('</script>').source);
  });
});

describe('on a page (real HTTP)', () => {
  test('a function or a template result: one error log line naming the element and the key, and the fallback in place', async () => {
    const server = await serveSite({ root: fixture('fidelity'), client: { build: false } });
    try {
      for (const [path, tag, message] of [
        ['/data-fn', 'f-fn', '<f-fn> data() value at .items[2].render is a function; only data can cross to the browser'],
        ['/data-tpl', 'f-tpl', '<f-tpl> data() value at .label is a Lit template result'],
      ] as const) {
        const before = server.logs.length;
        const res = await server.get(path);
        assert.equal(res.status, 200);
        const doc = parseDocument(await res.text());
        const el = doc.querySelector(tag)!;
        assert.equal(el.getAttribute('atoll-fallback'), 'data');
        assert.ok(el.querySelector('p.fallback'), 'the layout fallback is in place');
        assert.equal(el.querySelector('script'), null, 'no props script');
        const lines = server.logs.slice(before).filter((l) => l.level === 'error');
        assert.equal(lines.length, 1, 'one error line');
        assert.equal(lines[0]!.element, tag);
        assert.ok(String((lines[0]!.err as { message?: string }).message).startsWith(message), String((lines[0]!.err as { message?: string }).message));
      }
    } finally {
      await server.close();
    }
  });

  test('undefined, Date, Map, Set, BigInt, a shared and a cyclic object render on the server and are in the props script', async () => {
    const server = await serveSite({ root: fixture('fidelity'), client: { build: false } });
    try {
      const doc = parseDocument(await (await server.get('/data')).text());
      const el = doc.getElementById('d')!;
      const props = parse(el.querySelector(':scope > script[data-atoll-props]')!.textContent!) as Record<string, unknown>;
      assert.ok('gone' in props && props.gone === undefined);
      assert.ok(props.when instanceof Date && props.tags instanceof Map && props.seen instanceof Set);
      assert.equal(props.big, 2n ** 70n);
      assert.equal(props.first, props.second);
      assert.equal((props.loop as { self: unknown }).self, props.loop);
      const shadow = (el.firstElementChild as HTMLTemplateElement).content;
      assert.equal(shadow.querySelector('.same')!.textContent, 'same object');
      assert.equal(shadow.querySelector('.big')!.textContent, String(2n ** 70n));
    } finally {
      await server.close();
    }
  });

  test('an element whose client module no Atoll built: one warning per tag that it must install the decoder; an Atoll-built one is fine', async () => {
    const root = makeSite({
      'atoll.config.mjs': `export default { elements: {
        'x-foreign': { client: 'https://cdn.example/x-foreign.js' },
        'x-atoll': { client: 'https://other.example/_atoll/element/x-atoll.js' },
      } };`,
      'layouts/index.html': layout('<x-foreign></x-foreign><x-foreign></x-foreign><x-atoll></x-atoll>'),
      'elements/x-foreign/index.ts': litElement('x-foreign'),
      'elements/x-foreign/server.ts': 'export function data() { return { when: new Date(0) }; }',
      'elements/x-atoll/index.ts': litElement('x-atoll'),
      'elements/x-atoll/server.ts': 'export function data() { return { when: new Date(0) }; }',
    });
    const server = await serveSite({ root, client: { build: false } });
    try {
      for (let i = 0; i < 2; i++) assert.equal((await server.get('/')).status, 200);
      const warned = server.logs.filter((l) => l.level === 'warn' && /must install the decoder/.test(String(l.msg)));
      assert.deepEqual(warned.map((l) => l.element), ['x-foreign']);
      assert.equal(warned[0]!.client, 'https://cdn.example/x-foreign.js');
    } finally {
      await server.close();
    }
  });
});
