/**
 * Module resolution hooks for site code (registered with `module.register`).
 *
 * - Lit's packages always resolve to Atoll's own copy, so that a site's
 *   elements, its component libraries and `@lit-labs/ssr` share one Lit (two
 *   copies would mean two `LitElement` classes and two template caches).
 * - Any other bare specifier that the site cannot resolve from its own
 *   `node_modules` falls back to Atoll's dependencies, so a site folder with
 *   plain Lit elements needs no `npm install` of its own.
 * - A site's own `.ts`/`.js` files are ES modules even when the site has no
 *   package.json saying `"type": "module"` (only an explicit
 *   `"type": "commonjs"` keeps them CommonJS).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const LIT_FAMILY = /^(lit|lit-html|lit-element|@lit\/reactive-element|@lit-labs\/ssr-dom-shim)(\/|$)/;
const BARE = /^(?![./]|[a-z][a-z0-9+.-]*:)/i;
const SOURCE = /\.(ts|js|mts|mjs|tsx|jsx)$/;

let atollParent = '';
let atollModules = '';

/** @param {{ atollParent: string }} data */
export function initialize(data) {
  atollParent = data.atollParent;
  atollModules = atollParent.replace(/[^/]*$/, '') + 'node_modules/';
}

const typeCache = new Map();
/** The "type" of the nearest package.json above `dir`, or undefined. */
function packageType(dir) {
  if (typeCache.has(dir)) return typeCache.get(dir);
  let type;
  const pkg = join(dir, 'package.json');
  if (existsSync(pkg)) {
    try {
      type = JSON.parse(readFileSync(pkg, 'utf8')).type ?? 'none';
    } catch {
      type = 'none';
    }
  } else {
    const parent = dirname(dir);
    type = parent === dir ? 'none' : packageType(parent);
  }
  typeCache.set(dir, type);
  return type;
}

/** Site files default to ES modules. */
function asModule(result) {
  const { url, format } = result;
  if (!url.startsWith('file:') || url.includes('/node_modules/') || !SOURCE.test(url.split('?')[0])) return result;
  if (format !== 'commonjs' && format !== 'commonjs-typescript' && format != null) return result;
  if (url.endsWith('.cjs') || url.endsWith('.cts')) return result;
  if (packageType(dirname(fileURLToPath(url))) === 'commonjs') return result;
  const ts = /\.(ts|mts|tsx)$/.test(url.split('?')[0]);
  return { ...result, format: ts ? 'module-typescript' : 'module' };
}

/** @type {import('node:module').ResolveHook} */
export async function resolve(specifier, context, nextResolve) {
  if (!atollParent || context.parentURL?.startsWith(atollModules)) {
    return nextResolve(specifier, context);
  }
  if (!BARE.test(specifier)) return asModule(await nextResolve(specifier, context));
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
