/**
 * A measured speed-up of Lit's server renderer, applied before
 * `@lit-labs/ssr` loads.
 *
 * Profiling the demo home page showed ~15% of the CPU in one helper of
 * lit-html's SSR support, `connectedDisconnectable(props)`, which makes a
 * part object with an object spread (`{...props, _$AU: true}`) — once per
 * child part and per attribute part of every template rendered. Lit only
 * ever calls it with nothing or with `{type}`, and for those shapes a plain
 * object literal is an order of magnitude faster; any other shape still takes
 * the original path. `@lit-labs/ssr` copies the helper out of `_$LH` when it
 * is first evaluated, so this module must be imported before it (it is the
 * first import of `element.ts` and of the package's `index.ts`). When
 * something imported `@lit-labs/ssr` first, the patch cannot take effect:
 * `litFastPathActive()` then says so and `createAtoll` logs a warning.
 *
 * The replacement is only installed when the original behaves as expected,
 * so a Lit upgrade that changes it leaves Lit untouched (a test checks that
 * it is active with the pinned Lit).
 */
import { _$LH } from 'lit-html/private-ssr-support.js';

type Helper = (props?: object) => object;
const support = _$LH as unknown as { connectedDisconnectable: Helper };
const original = support.connectedDisconnectable;
let installed = false;
/** Set by the fast helper: proof that the renderer really calls it. */
let used = false;

const fast: Helper = (props?: object) => {
  used = true;
  if (props === undefined) return { _$AU: true };
  for (const key in props) if (key !== 'type') return { ...props, _$AU: true };
  return { type: (props as { type?: unknown }).type, _$AU: true };
};

function sameShape(a: object, b: object): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && (a as Record<string, unknown>)[k] === (b as Record<string, unknown>)[k]);
}

if (typeof original === 'function') {
  const probes: Array<object | undefined> = [undefined, { type: 2 }, { type: 1, name: 'x' }];
  if (probes.every((p) => sameShape(original(p), fast(p)))) {
    support.connectedDisconnectable = fast;
    installed = true;
  }
}

/**
 * True when Lit's renderer really uses the fast helper. `renderProbe` must
 * render a template with a child part through `@lit-labs/ssr`.
 */
export function litFastPathActive(renderProbe: () => void): boolean {
  if (!installed) return false;
  used = false;
  renderProbe();
  return used;
}
