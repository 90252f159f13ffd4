/**
 * Module resolution hooks for site code (registered with `module.register`).
 *
 * - Lit's packages always resolve to Atoll's own copy, so that a site's
 *   elements, its component libraries and `@lit-labs/ssr` share one Lit (two
 *   copies would mean two `LitElement` classes and two template caches).
 * - Any other bare specifier that the site cannot resolve from its own
 *   `node_modules` falls back to Atoll's dependencies, so a site folder with
 *   plain Lit elements needs no `npm install` of its own.
 */
const LIT_FAMILY = /^(lit|lit-html|lit-element|@lit\/reactive-element|@lit-labs\/ssr-dom-shim)(\/|$)/;
const BARE = /^(?![./]|[a-z][a-z0-9+.-]*:)/i;

let atollParent = '';

/** @param {{ atollParent: string }} data */
export function initialize(data) {
  atollParent = data.atollParent;
}

/** @type {import('node:module').ResolveHook} */
export async function resolve(specifier, context, nextResolve) {
  if (!atollParent || !BARE.test(specifier) || context.parentURL?.startsWith(atollParent.replace(/[^/]*$/, '') + 'node_modules/')) {
    return nextResolve(specifier, context);
  }
  if (LIT_FAMILY.test(specifier)) {
    return nextResolve(specifier, { ...context, parentURL: atollParent });
  }
  try {
    return await nextResolve(specifier, context);
  } catch (e) {
    if (e && e.code === 'ERR_MODULE_NOT_FOUND') {
      return nextResolve(specifier, { ...context, parentURL: atollParent });
    }
    throw e;
  }
}
