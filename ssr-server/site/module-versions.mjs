/**
 * Module versions: a resolve hook (registered with `module.register` by
 * `generations.ts`) that gives each of a site's own files a version in its
 * URL (`…/x-card.ts?atoll-v=3`), so that a new version of a file is a new
 * module for Node's ES module loader — ES modules cannot be unloaded, but a
 * new URL evaluates fresh — while files that did not change, and everything
 * in `node_modules` (Lit, …), keep their URL and stay shared.
 *
 * The hook records which site file imports which (every resolution with a
 * site file as parent is an edge). When the main thread says files changed
 * (a message on the port), the files and every site file that imports them,
 * transitively, get the new version number; the next import of any of them
 * evaluates the new code. Modules already loaded at an older version stay
 * as they were, so work that holds them (a request in flight on the
 * previous generation) finishes on the code it started with.
 *
 * What counts as a site file: a `file:` URL under a site root (the main
 * thread adds one with a message per site it watches), outside
 * `node_modules`, `.atoll` and the folders given as `exclude` (Atoll's own
 * source, when the site is Atoll's repository).
 */
import { fileURLToPath } from 'node:url';

const QUERY = 'atoll-v';
/** @type {string[]} the site folders, each ending in a separator */
const roots = [];
/** @type {string[]} */
let exclude = [];
/** path → version (absent: 0, the URL as it is) */
const versions = new Map();
/** path → paths of the site files that import it */
const importers = new Map();
/** every site file resolved so far */
const known = new Set();

/**
 * @param {{ exclude?: string[], port: import('node:worker_threads').MessagePort }} data
 */
export function initialize(data) {
  exclude = (data.exclude ?? []).map((d) => (d.endsWith('/') ? d : d + '/'));
  data.port.on('message', (message) => {
    try {
      if (typeof message.root === 'string') {
        const root = message.root.endsWith('/') ? message.root : message.root + '/';
        if (!roots.includes(root)) roots.push(root);
        data.port.postMessage({ id: message.id, files: [] });
        return;
      }
      const under = typeof message.under === 'string' ? (message.under.endsWith('/') ? message.under : message.under + '/') : '';
      const files = message.all === true ? [...[...known].filter((f) => f.startsWith(under)), ...message.files] : message.files;
      data.port.postMessage({ id: message.id, files: invalidate(files, message.version) });
    } catch (e) {
      data.port.postMessage({ id: message.id, error: String(e && e.message) });
    }
  });
  data.port.unref();
}

/** The site file a URL names (without its query), or undefined. */
function siteFile(url) {
  if (typeof url !== 'string' || !url.startsWith('file:')) return undefined;
  let path;
  try {
    path = fileURLToPath(url.split(/[?#]/)[0]);
  } catch {
    return undefined;
  }
  if (!roots.some((root) => path.startsWith(root)) || /[\\/](node_modules|\.atoll)[\\/]/.test(path)) return undefined;
  for (const dir of exclude) if (path.startsWith(dir)) return undefined;
  return path;
}

/** Gives `files` and their importers (transitively) `version`; returns every file that got it. */
function invalidate(files, version) {
  const seen = new Set();
  const queue = [...files];
  while (queue.length > 0) {
    const file = queue.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    versions.set(file, version);
    for (const parent of importers.get(file) ?? []) queue.push(parent);
  }
  return [...seen];
}

/** @type {import('node:module').ResolveHook} */
export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  if (roots.length === 0) return result;
  const file = siteFile(result.url);
  if (file === undefined) return result;
  known.add(file);
  const parent = siteFile(context.parentURL);
  if (parent !== undefined && parent !== file) {
    let set = importers.get(file);
    if (set === undefined) importers.set(file, (set = new Set()));
    set.add(parent);
  }
  const version = versions.get(file);
  if (version === undefined) return result;
  const [base, hash = ''] = result.url.split('#');
  const params = new URLSearchParams(base.includes('?') ? base.slice(base.indexOf('?') + 1) : '');
  params.set(QUERY, String(version));
  const path = base.includes('?') ? base.slice(0, base.indexOf('?')) : base;
  return { ...result, url: `${path}?${params}${hash === '' ? '' : '#' + hash}` };
}
