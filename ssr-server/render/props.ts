/**
 * An element's `data()` result as data, never as a code path: serialized
 * once, right after `data()` settles, with devalue (`stringify`; the browser
 * decodes it with devalue's `parse`, which never evaluates code) into the
 * text that both the render cache key and the page's
 * `<script type="application/json" data-atoll-props>` use. So `undefined`,
 * `Date`, `Map`, `Set`, `BigInt`, `RegExp`, `URL`, typed arrays, repeated
 * references and cycles reach the browser as they were on the server.
 *
 * A value that cannot cross — a function, a symbol, a Promise, a Lit
 * template result, a DOM-ish object, an instance of some class, a getter or
 * Proxy that throws — or a result that is too large or too deep is a failure
 * of that element, reported with one reason that names the key path
 * (`data() value at .items[2].render is a function; only data can cross to
 * the browser`), and not an exception somewhere later in the stream or a
 * value lost without a word in the browser.
 */
import { DevalueError, stringify } from 'devalue';
import type { Html } from '../html.ts';

/** Largest serialized props accepted for one element (characters). */
export const MAX_PROPS_CHARS = 4 * 1024 * 1024;

/** The outcome of checking a `data()` result. */
export type PropsCheck =
  | { ok: true; props: Record<string, unknown> | undefined; encoded: Html | undefined }
  | { ok: false; reason: string };

/** Thrown (internally) when the value being walked is already known to be too large. */
class TooLarge extends Error {}

/**
 * devalue's operations, made safe for hostile values: a getter, a Proxy trap
 * or a patched `Symbol.toStringTag` that throws marks the value it was
 * reading as broken (the reason is kept), and devalue then refuses it as a
 * non-plain object at its key path, so the error can name where it was.
 * Lit template results, directive results and DOM-ish objects are refused
 * the same way (devalue would otherwise take a template result for a plain
 * object and the browser would get a broken one).
 */
function operations(broken: WeakMap<object, string>, maxChars: number) {
  const mark = (thing: unknown, why: unknown): void => {
    if (thing !== null && (typeof thing === 'object' || typeof thing === 'function')) broken.set(thing, describe(why));
  };
  let bytes = 0;
  return {
    tagOf: (value: unknown): string => {
      if (broken.has(value as object)) return 'Object';
      try {
        return Object.prototype.toString.call(value).slice(8, -1);
      } catch (e) {
        mark(value, e);
        return 'Object';
      }
    },
    isThenable: (value: unknown): boolean => {
      try {
        return typeof (value as { then?: unknown }).then === 'function';
      } catch (e) {
        mark(value, e);
        return false;
      }
    },
    get: (value: unknown, key: string | number): unknown => {
      try {
        return (value as Record<string | number, unknown>)[key];
      } catch (e) {
        // A stand-in that devalue refuses at this key's path, with the reason.
        const stand = {};
        broken.set(stand, `could not be read: ${describe(e)}`);
        return stand;
      }
    },
    shapeOf: (value: object) => {
      if (broken.has(value) || crossesNot(value) !== undefined) return { kind: 'not-plain' as const };
      try {
        const proto: unknown = Object.getPrototypeOf(value);
        const plain = proto === Object.prototype || proto === null || (proto !== undefined && Object.getPrototypeOf(proto) === null);
        if (!plain) return { kind: 'not-plain' as const };
        if (Object.getOwnPropertySymbols(value).some((s) => Object.getOwnPropertyDescriptor(value, s)?.enumerable)) return { kind: 'symbol-keys' as const };
        const keys = Object.keys(value);
        return { kind: proto === null ? ('null-proto' as const) : ('plain' as const), keys };
      } catch (e) {
        mark(value, e);
        return { kind: 'not-plain' as const };
      }
    },
    viewInfo: (view: ArrayBufferView & { length?: number }) => {
      bytes += view.byteLength;
      if (bytes * 4 > maxChars * 3) throw new TooLarge();
      // A Node Buffer may share a pool with unrelated (sensitive) data: copy only its bytes.
      const v = typeof Buffer !== 'undefined' && Buffer.isBuffer(view) ? new Uint8Array(view) : view;
      return { buffer: v.buffer, byteOffset: v.byteOffset, byteLength: v.byteLength, length: v.length ?? v.byteLength, bufferByteLength: v.buffer.byteLength };
    },
  };
}

/** Why `value` cannot cross although it looks like an object devalue might take; undefined when it can. */
function crossesNot(value: object): string | undefined {
  try {
    if ('_$litType$' in value) return 'a Lit template result (html`…`); render it in the element, and pass the data it needs';
    if ('_$litDirective$' in value) return 'a Lit directive result; render it in the element, and pass the data it needs';
    if ('_$cssResult$' in value) return 'a Lit css`…` result; put styles in the element';
    const v = value as { nodeType?: unknown; nodeName?: unknown; addEventListener?: unknown };
    if (typeof v.nodeType === 'number' && typeof v.nodeName === 'string') return 'a DOM node';
    if (typeof v.addEventListener === 'function') return 'a DOM object (an event target)';
  } catch {
    return undefined; // shapeOf marks it broken
  }
  return undefined;
}

/** What `thing` is, for the message of a value that cannot cross. */
function whatItIs(thing: unknown, broken: WeakMap<object, string>): string {
  const type = typeof thing;
  if (type === 'function') return 'is a function; only data can cross to the browser';
  if (type === 'symbol') return 'is a symbol; only data can cross to the browser';
  if (thing === null || type !== 'object') return `cannot be serialized`;
  const o = thing as object;
  const why = broken.get(o);
  if (why !== undefined) return why.startsWith('could not be read') ? why : `could not be read: ${why}`;
  const not = crossesNot(o);
  if (not !== undefined) return `is ${not}; only data can cross to the browser`;
  try {
    if (typeof (o as { then?: unknown }).then === 'function') return 'is a Promise (or thenable); await it in data()';
    const proto: unknown = Object.getPrototypeOf(o);
    const name = (proto as { constructor?: { name?: unknown } } | null)?.constructor?.name;
    const named = typeof name === 'string' && name !== '' ? ` ${name.slice(0, 60)}` : '';
    return `is an instance of a class${named ? ` (${named.trim()})` : ''}; only plain objects, arrays, Date, Map, Set, RegExp, URL, BigInt, typed arrays and primitives can cross to the browser`;
  } catch (e) {
    return `could not be read: ${describe(e)}`;
  }
}

/**
 * Checks and serializes what a `data()` hook returned. Never throws. The
 * result has no `<` (devalue escapes it in every string, and nothing else it
 * writes contains one), no U+2028/U+2029, so it is inert inside a
 * `<script type="application/json">`: neither `</script>` nor `<!--` can
 * appear.
 */
export function checkProps(value: unknown, maxChars = MAX_PROPS_CHARS): PropsCheck {
  const broken = new WeakMap<object, string>();
  try {
    if (value === undefined || value === null) return { ok: true, props: undefined, encoded: undefined };
    if (typeof value !== 'object' || Array.isArray(value)) {
      return { ok: false, reason: `data() must return an object of properties, not ${Array.isArray(value) ? 'an array' : `a ${typeof value}`}` };
    }
    let encoded = stringify(value, undefined, { operations: operations(broken, maxChars) });
    if (encoded.length > maxChars) return { ok: false, reason: `data() returned ${encoded.length} characters once serialized, more than the ${maxChars} allowed` };
    // Never expected (devalue escapes these in strings, and writes them nowhere else); kept as a last guard.
    if (/[<\u2028\u2029]/.test(encoded)) encoded = encoded.replace(/[<\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    return { ok: true, props: value as Record<string, unknown>, encoded: encoded as Html };
  } catch (e) {
    return { ok: false, reason: reasonOf(e, value, broken, maxChars) };
  }
}

function reasonOf(e: unknown, root: unknown, broken: WeakMap<object, string>, maxChars: number): string {
  try {
    if (e instanceof TooLarge) return `data() returned binary data of more than ${Math.floor((maxChars * 3) / 4)} bytes, more than the ${maxChars} characters allowed once serialized`;
    if (e instanceof RangeError && /call stack/i.test(e.message)) return 'data() returned a value nested too deeply to serialize';
    if (e instanceof DevalueError) {
      const path = clip(e.path, 200);
      const where = path === '' ? 'data() result' : `data() value at ${path}`;
      if (/__proto__/.test(e.message)) return `${where} has a "__proto__" key, which cannot cross to the browser safely`;
      if (/symbolic keys/.test(e.message)) return `${where} has symbol keys; only data can cross to the browser`;
      if (path === '' && e.value === root) {
        return `data() must return a plain object of properties; its result ${whatItIs(e.value, broken)}`;
      }
      return `data() value at ${path || '(the result)'} ${whatItIs(e.value, broken)}`;
    }
    return `data() returned a value that cannot be serialized (${describe(e)})`;
  } catch {
    return 'data() returned a value that cannot be serialized';
  }
}

const clip = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n)}…` : s);

function describe(e: unknown): string {
  try {
    if (e instanceof Error) return clip(String(e.message), 200);
    return clip(String(e), 200);
  } catch {
    return 'an unprintable error';
  }
}
