/**
 * How a page finds the client router (docs/navigation.md): an entry of
 * Atoll's import map, written by `<atoll-head>` only into pages served with
 * navigation on (those whose import map carries `data-atoll-layout`). The
 * island loader imports it once the page is idle; its URL is the built
 * `router-<hash>.js` (immutable). The `:` cannot occur in a custom element
 * name, so the key never names an element module.
 *
 * Its own module, not `protocol.ts` (the agreed server–client constants):
 * only the loader and `<atoll-head>` read it. No DOM types.
 */
export const ROUTER_SPECIFIER = '@atoll/:router';
